/**
 * Turns a stream of generated token ids into released text:
 *  - incremental detokenization that never emits half a UTF-8 character (a token ending in an
 *    incomplete multi-byte sequence detokenizes to U+FFFD; its text waits for the next tokens);
 *  - stop sequences: text that could still be the start of a stop string is held back, so a
 *    client never sees a partial stop string, and generation ends before the stop string.
 * Tokens are released whole and in order; each released token carries the text it adds.
 */

/** Detokenizes `tokens` as the continuation of `lastTokens` (for leading-space rules). */
export type ContinuationDetokenizer = (tokens: readonly number[], lastTokens: readonly number[]) => string

/** A token whose text is final. */
export interface ReleasedToken {
  readonly id: number
  readonly text: string
}

export interface PushResult {
  readonly released: readonly ReleasedToken[]
  /** A stop string was found: `released` ends right before it and generation must end. */
  readonly stopped: boolean
}

/** Tokens kept as detokenization context (SentencePiece leading-space rules need only a few). */
const CONTEXT_TOKENS = 8
/** A character never spans more than 4 UTF-8 bytes, hence more than 4 byte-fallback tokens. */
const MAX_PENDING_BYTES_TOKENS = 4
const REPLACEMENT = '\uFFFD'

export class OutputText {
  private readonly detokenize: ContinuationDetokenizer
  private readonly stop: readonly string[]
  private context: number[]
  /** Tokens whose UTF-8 is still incomplete. */
  private pending: number[] = []
  /** Tokens with final text, not yet released because of a possible stop string. */
  private held: ReleasedToken[] = []
  private heldText = ''
  private releasedText = ''

  /**
   * @param context - tokens that precede the output (prompt tail, resumed tokens).
   */
  constructor(detokenize: ContinuationDetokenizer, stop: readonly string[], context: readonly number[]) {
    this.detokenize = detokenize
    this.stop = stop.filter((s) => s.length > 0)
    this.context = context.slice(-CONTEXT_TOKENS)
  }

  /** All text released so far. */
  get text(): string {
    return this.releasedText
  }

  /** Adds one generated token. */
  push(id: number): PushResult {
    this.pending.push(id)
    let text = this.detokenize(this.pending, this.context)
    if (text.endsWith(REPLACEMENT) && this.pending.length < MAX_PENDING_BYTES_TOKENS) text = ''
    else this.commitPending()
    this.held.push({ id, text })
    this.heldText += text
    return this.releaseHeld()
  }

  /** End of generation without a stop string: releases everything still held. */
  flush(): readonly ReleasedToken[] {
    if (this.pending.length > 0 && this.held.length > 0) {
      // Incomplete UTF-8 at the very end: emit what llama.cpp gives (with U+FFFD).
      const text = this.detokenize(this.pending, this.context)
      const last = this.held[this.held.length - 1]!
      this.held[this.held.length - 1] = { id: last.id, text: last.text + text }
      this.heldText += text
      this.commitPending()
    }
    return this.releaseUpTo(Infinity)
  }

  private commitPending(): void {
    this.context = [...this.context, ...this.pending].slice(-CONTEXT_TOKENS)
    this.pending = []
  }

  private releaseHeld(): PushResult {
    if (this.stop.length === 0) return { released: this.releaseUpTo(Infinity), stopped: false }
    let stopAt = -1
    for (const s of this.stop) {
      const at = this.heldText.indexOf(s)
      if (at >= 0 && (stopAt < 0 || at < stopAt)) stopAt = at
    }
    if (stopAt >= 0) return { released: this.releaseText(stopAt), stopped: true }
    let keep = 0
    for (const s of this.stop) keep = Math.max(keep, longestSuffixPrefix(this.heldText, s))
    return { released: this.releaseUpTo(this.heldText.length - keep), stopped: false }
  }

  /** Releases whole held tokens while their text fits in the first `limit` characters. */
  private releaseUpTo(limit: number): ReleasedToken[] {
    const out: ReleasedToken[] = []
    let used = 0
    while (this.held.length > 0 && used + this.held[0]!.text.length <= limit) {
      const token = this.held.shift()!
      used += token.text.length
      out.push(token)
    }
    this.heldText = this.heldText.slice(used)
    for (const token of out) this.releasedText += token.text
    return out
  }

  /** Releases exactly the first `end` characters of held text (the last token may be cut). */
  private releaseText(end: number): ReleasedToken[] {
    const out: ReleasedToken[] = []
    let used = 0
    for (const token of this.held) {
      if (used >= end) break
      const take = Math.min(token.text.length, end - used)
      out.push({ id: token.id, text: token.text.slice(0, take) })
      used += take
    }
    this.held = []
    this.heldText = ''
    for (const token of out) this.releasedText += token.text
    return out
  }
}

/** Length of the longest proper prefix of `pattern` that is a suffix of `text`. */
function longestSuffixPrefix(text: string, pattern: string): number {
  for (let len = Math.min(text.length, pattern.length - 1); len > 0; len--) {
    if (text.endsWith(pattern.slice(0, len))) return len
  }
  return 0
}
