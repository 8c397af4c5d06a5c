/**
 * Byte-level BPE (GPT-2 style), trained on our corpus by our code.
 *
 * Format (the one GGUF `tokenizer.ggml.model = "gpt2"` expects, and llama.cpp's BPE tokenizer
 * implements): every byte is mapped to a printable code point by GPT-2's `bytes_to_unicode`
 * table; token texts and merges are strings over those code points. Ids 0..255 are the single
 * bytes in byte order, id 256+r is the result of merge r (rank r), the last id is the
 * end-of-text control token. Because all 256 bytes are tokens, any UTF-8 input round-trips.
 *
 * Pre-tokenization is GPT-2's regex (llama.cpp `LLAMA_VOCAB_PRE_TYPE_GPT2`, GGUF
 * `tokenizer.ggml.pre = "gpt-2"`); encoding merges the lowest-rank adjacent pair first, leftmost
 * on ties — the same procedure as llama.cpp's `llm_tokenizer_bpe_session`, so our training
 * data is tokenized exactly as node-llama-cpp tokenizes prompts.
 */

/** End-of-text control token (last id of the vocabulary). */
export const END_OF_TEXT = '<|endoftext|>'

/**
 * GPT-2 pre-tokenizer (Radford et al. 2019, `encoder.py`): contractions, optional-space +
 * letters, optional-space + digits, optional-space + other, trailing whitespace runs.
 */
export const GPT2_PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

/** A trained byte-level BPE vocabulary. */
export interface BpeVocab {
  /** Token texts in GPT-2 byte-to-unicode form, indexed by id. */
  tokens: string[]
  /** Merges in rank order, each "left right" (space-separated token texts). */
  merges: string[]
  /** Id of {@link END_OF_TEXT}. */
  endOfTextId: number
}

let byteToChar: string[] | undefined
let charToByte: Map<string, number> | undefined

/** GPT-2 `bytes_to_unicode`: printable bytes map to themselves, the rest to U+0100 upward. */
export function bytesToUnicodeTable(): string[] {
  if (byteToChar) return byteToChar
  const table: string[] = new Array(256)
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  let n = 0
  for (let b = 0; b < 256; b++) table[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++)
  byteToChar = table
  charToByte = new Map(table.map((c, b) => [c, b]))
  return table
}

/** Token text (byte-to-unicode form) → raw bytes. */
export function tokenTextToBytes(text: string): Uint8Array {
  bytesToUnicodeTable()
  const out = new Uint8Array(text.length)
  let i = 0
  for (const ch of text) {
    const b = charToByte!.get(ch)
    if (b === undefined) throw new RangeError(`not a byte-level token text: ${JSON.stringify(text)}`)
    out[i++] = b
  }
  return out.subarray(0, i)
}

/** Splits text into GPT-2 pre-tokens. */
export function pretokenize(text: string): string[] {
  return text.match(GPT2_PRETOKENIZE) ?? []
}

/**
 * Trains a byte-level BPE with `vocabSize` tokens in all (256 bytes + merges + end-of-text).
 * Each round merges the most frequent adjacent pair, ties broken by the smaller
 * (left id, right id) so the result is deterministic.
 */
export function trainBpe(text: string, vocabSize: number): BpeVocab {
  const table = bytesToUnicodeTable()
  const numMerges = vocabSize - 257
  if (numMerges < 0) throw new RangeError(`vocabSize must be >= 257, got ${vocabSize}`)
  const counts = new Map<string, number>()
  for (const w of pretokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1)
  const words: number[][] = []
  const freq: number[] = []
  const encoder = new TextEncoder()
  for (const [w, c] of counts) {
    words.push(Array.from(encoder.encode(w)))
    freq.push(c)
  }
  const tokens = table.slice()
  const merges: string[] = []
  const SHIFT = 1 << 16
  for (let m = 0; m < numMerges; m++) {
    const pairCounts = new Map<number, number>()
    for (let w = 0; w < words.length; w++) {
      const s = words[w]!
      const f = freq[w]!
      for (let i = 0; i + 1 < s.length; i++) {
        const key = s[i]! * SHIFT + s[i + 1]!
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + f)
      }
    }
    let best = -1
    let bestCount = 0
    for (const [key, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && key < best)) {
        best = key
        bestCount = c
      }
    }
    if (best < 0) break
    const left = Math.floor(best / SHIFT)
    const right = best % SHIFT
    const id = tokens.length
    tokens.push(tokens[left]! + tokens[right]!)
    merges.push(`${tokens[left]} ${tokens[right]}`)
    for (const s of words) {
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === left && s[i + 1] === right) s.splice(i, 2, id)
      }
    }
  }
  tokens.push(END_OF_TEXT)
  return { tokens, merges, endOfTextId: tokens.length - 1 }
}

/** Encodes and decodes with a {@link BpeVocab} (lowest-rank-first merging, as llama.cpp). */
export class BpeCodec {
  readonly vocab: BpeVocab
  private readonly rank = new Map<string, number>()
  private readonly idOf = new Map<string, number>()
  private readonly cache = new Map<string, number[]>()
  private readonly tokenBytes: Uint8Array[]
  private readonly encoder = new TextEncoder()

  constructor(vocab: BpeVocab) {
    this.vocab = vocab
    vocab.merges.forEach((m, r) => this.rank.set(m, r))
    vocab.tokens.forEach((t, id) => this.idOf.set(t, id))
    this.tokenBytes = vocab.tokens.map((t, id) => (id === vocab.endOfTextId ? new Uint8Array(0) : tokenTextToBytes(t)))
  }

  /** Text → token ids (no special tokens are parsed or added). */
  encode(text: string): number[] {
    const out: number[] = []
    for (const piece of pretokenize(text)) {
      let ids = this.cache.get(piece)
      if (!ids) {
        ids = this.encodePiece(piece)
        if (this.cache.size < 200_000) this.cache.set(piece, ids)
      }
      for (const id of ids) out.push(id)
    }
    return out
  }

  /** Token ids → bytes (end-of-text decodes to nothing). */
  decodeBytes(ids: readonly number[]): Uint8Array {
    const parts = ids.map((id) => this.tokenBytes[id] ?? new Uint8Array(0))
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let o = 0
    for (const p of parts) {
      out.set(p, o)
      o += p.length
    }
    return out
  }

  /** Token ids → text (invalid UTF-8 sequences become U+FFFD). */
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.decodeBytes(ids))
  }

  private encodePiece(piece: string): number[] {
    const table = bytesToUnicodeTable()
    const syms = Array.from(this.encoder.encode(piece), (b) => table[b]!)
    for (;;) {
      let bestRank = Infinity
      let bestAt = -1
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.rank.get(`${syms[i]} ${syms[i + 1]}`)
        if (r !== undefined && r < bestRank) {
          bestRank = r
          bestAt = i
        }
      }
      if (bestAt < 0) break
      syms.splice(bestAt, 2, syms[bestAt]! + syms[bestAt + 1]!)
    }
    return syms.map((s) => this.idOf.get(s)!)
  }
}
