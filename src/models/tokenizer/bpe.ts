import { BYTE_TO_CHAR, symbolToBytes } from './byte-unicode.js'
import { preTokenize } from './pretokenize.js'
import { TokenType, buildVocabulary, type TokenizerSpec, type Vocabulary } from './spec.js'

interface Bigram {
  readonly left: number
  readonly right: number
  readonly text: string
  readonly rank: number
}

/** Min-heap ordered like llama.cpp's `llm_bigram_bpe::comparator`: lower rank, then leftmost. */
class BigramQueue {
  private readonly items: Bigram[] = []

  private static before(a: Bigram, b: Bigram): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.left < b.left)
  }

  get size(): number {
    return this.items.length
  }

  push(item: Bigram): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >>> 1
      if (!BigramQueue.before(a[i]!, a[p]!)) break
      ;[a[i], a[p]] = [a[p]!, a[i]!]
      i = p
    }
  }

  pop(): Bigram {
    const a = this.items
    const top = a[0]!
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && BigramQueue.before(a[l]!, a[m]!)) m = l
        if (r < a.length && BigramQueue.before(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8')

/**
 * Byte-level BPE with exactly llama.cpp's behaviour for `tokenizer.ggml.model = "gpt2"`,
 * `tokenizer.ggml.pre = "qwen2"` (src/llama-vocab.cpp `llm_tokenizer_bpe_session::tokenize`):
 * pre-tokenize, map each piece's UTF-8 bytes to byte-level chars, then repeatedly apply the
 * lowest-rank merge (leftmost on ties) until none applies. Special-token text in the input is
 * treated as plain text, as node-llama-cpp's `tokenize(text)` does by default.
 */
export class BpeTokenizer {
  readonly vocab: Vocabulary
  private readonly cache = new Map<string, readonly number[]>()
  private readonly tokenBytesById: readonly (Uint8Array | undefined)[]

  constructor(readonly spec: TokenizerSpec) {
    this.vocab = buildVocabulary(spec)
    this.tokenBytesById = this.vocab.tokens.map((t, id) =>
      this.vocab.tokenTypes[id] === TokenType.NORMAL ? symbolToBytes(t) : encoder.encode(t),
    )
  }

  get vocabSize(): number {
    return this.vocab.tokens.length
  }

  get bosId(): number {
    return this.vocab.bosId
  }

  get eosId(): number {
    return this.vocab.eosId
  }

  /** Text → token ids. Lone UTF-16 surrogates become U+FFFD, as in any UTF-8 conversion. */
  encode(text: string, options: { addBos?: boolean } = {}): number[] {
    const out: number[] = options.addBos ? [this.vocab.bosId] : []
    // Lone surrogates cannot be UTF-8 encoded; replace them the way the UTF-8 encoder does.
    const wellFormed = /\p{Cs}/u.test(text) ? decoder.decode(encoder.encode(text)) : text
    for (const piece of preTokenize(wellFormed)) {
      let ids = this.cache.get(piece)
      if (ids === undefined) {
        ids = this.encodePiece(piece)
        if (this.cache.size > 50_000) this.cache.clear()
        this.cache.set(piece, ids)
      }
      for (const id of ids) out.push(id)
    }
    return out
  }

  private encodePiece(piece: string): number[] {
    const symbols: string[] = []
    for (const b of encoder.encode(piece)) symbols.push(BYTE_TO_CHAR[b]!)
    const n = symbols.length
    const prev = symbols.map((_, i) => i - 1)
    const next = symbols.map((_, i) => (i + 1 < n ? i + 1 : -1))
    const queue = new BigramQueue()
    const addBigram = (left: number, right: number): void => {
      if (left === -1 || right === -1) return
      const rank = this.vocab.rankOf.get(`${symbols[left]} ${symbols[right]}`)
      if (rank === undefined) return
      queue.push({ left, right, text: symbols[left]! + symbols[right]!, rank })
    }
    for (let i = 1; i < n; i++) addBigram(i - 1, i)
    while (queue.size > 0) {
      const bigram = queue.pop()
      const left = symbols[bigram.left]!
      const right = symbols[bigram.right]!
      // Stale entries (a side already merged away or grown) are skipped, as in llama.cpp.
      if (left === '' || right === '' || left + right !== bigram.text) continue
      symbols[bigram.left] = bigram.text
      symbols[bigram.right] = ''
      next[bigram.left] = next[bigram.right]!
      if (next[bigram.right]! >= 0) prev[next[bigram.right]!] = bigram.left
      addBigram(prev[bigram.left]!, bigram.left)
      addBigram(bigram.left, next[bigram.left]!)
    }
    const ids: number[] = []
    for (const s of symbols) {
      if (s === '') continue
      const id = this.vocab.idOf.get(s)
      if (id !== undefined) {
        ids.push(id)
      } else {
        // Unreachable for a valid vocabulary (every merge result is a token); llama.cpp falls back to bytes.
        for (const ch of s) ids.push(this.vocab.idOf.get(ch)!)
      }
    }
    return ids
  }

  /** Bytes a token stands for (specials: their literal text). */
  tokenBytes(id: number): Uint8Array {
    const b = this.tokenBytesById[id]
    if (b === undefined) throw new RangeError(`token id ${id} outside the vocabulary of ${this.vocabSize}`)
    return b
  }

  /** Token ids → bytes; special tokens render as nothing unless `special` (like llama.cpp). */
  decodeBytes(ids: readonly number[], options: { special?: boolean } = {}): Uint8Array {
    const parts: Uint8Array[] = []
    let length = 0
    for (const id of ids) {
      if (!options.special && this.vocab.tokenTypes[id] === TokenType.CONTROL) continue
      const b = this.tokenBytes(id)
      parts.push(b)
      length += b.length
    }
    const out = new Uint8Array(length)
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  /** Token ids → text (invalid UTF-8, e.g. a cut multi-byte char, becomes U+FFFD). */
  decode(ids: readonly number[], options: { special?: boolean } = {}): string {
    return decoder.decode(this.decodeBytes(ids, options))
  }
}
