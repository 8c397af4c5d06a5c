/**
 * The pinned training corpus (`data/kjv.txt`, see `data/SOURCE.md`) and its fixed split.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { sha256Hex } from '../identity/index.js'
import { CorpusError } from './errors.js'

/** Path of the committed corpus. */
export const CORPUS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'kjv.txt')
/** sha256 of `data/kjv.txt` as recorded in `data/SOURCE.md`. */
export const CORPUS_SHA256 = 'b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d'
/** Human-readable corpus name and license, copied into the model manifest. */
export const CORPUS_NAME = 'King James Version of the Bible (Debian bible-kjv-text 4.38)'
export const CORPUS_LICENSE = 'public-domain'
/** Every VALIDATION_EVERY-th verse (index % 20 == 19) is held out: 5%. */
export const VALIDATION_EVERY = 20

/** The corpus split into training and validation text (verses joined by `\n`). */
export interface CorpusSplit {
  train: string
  validation: string
  sha256: string
}

/** Reads the committed corpus, verifies its sha256 and splits it deterministically. */
export function loadCorpus(path: string = CORPUS_PATH): CorpusSplit {
  const bytes = readFileSync(path)
  const sha256 = sha256Hex(bytes)
  if (path === CORPUS_PATH && sha256 !== CORPUS_SHA256) {
    throw new CorpusError(`corpus ${path} has sha256 ${sha256}, expected ${CORPUS_SHA256}`)
  }
  return { ...splitVerses(bytes.toString('utf8')), sha256 }
}

/** Splits one-verse-per-line text: line i goes to validation iff i % 20 == 19. */
export function splitVerses(text: string): { train: string; validation: string } {
  const lines = text.split('\n').filter((l) => l.length > 0)
  const train: string[] = []
  const validation: string[] = []
  lines.forEach((line, i) => (i % VALIDATION_EVERY === VALIDATION_EVERY - 1 ? validation : train).push(line))
  return { train: train.join('\n') + '\n', validation: validation.join('\n') + '\n' }
}
