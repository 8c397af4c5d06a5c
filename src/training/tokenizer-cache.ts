/**
 * The demo tokenizer: byte-level BPE trained on the corpus's training split, cached under
 * `.cache/train/` keyed by corpus hash and vocabulary size (training it takes ~20 s).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { trainBpe, type BpeVocab } from './bpe.js'

const BpeVocabSchema = z.object({ tokens: z.array(z.string()), merges: z.array(z.string()), endOfTextId: z.number().int() })

/** Returns the BPE vocabulary for (corpus, vocabSize), training and caching it if needed. */
export function demoTokenizer(trainText: string, corpusSha256: string, vocabSize: number, cacheDir: string): BpeVocab {
  const path = join(cacheDir, `bpe-${corpusSha256.slice(0, 16)}-${vocabSize}.json`)
  if (existsSync(path)) {
    const parsed = BpeVocabSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
    if (parsed.success && parsed.data.tokens.length === vocabSize) return parsed.data
  }
  const vocab = trainBpe(trainText, vocabSize)
  mkdirSync(cacheDir, { recursive: true })
  writeFileSync(path, JSON.stringify(vocab))
  return vocab
}
