import { RANGE_CLASSES, RANGE_STARTS } from './unicode-flags.js'

/**
 * The pre-tokenizer our models declare with `tokenizer.ggml.pre = "qwen2"`: a port of llama.cpp's
 * `unicode_regex_split_custom_qwen2` (src/unicode.cpp), which implements the Qwen2 regex
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with llama.cpp's own Unicode tables (unicode-flags.ts). We chose qwen2 because llama.cpp
 * recognises it without warnings, has a hand-written (not std::regex) splitter, and — unlike
 * "gpt-2" — does not set `clean_spaces`, which would make detokenize("a .") return "a.".
 */

const LETTER = 1
const NUMBER = 2
const WHITESPACE = 4
/** Every in-range code point has some flag in llama.cpp (at least UNDEFINED); out-of-range has none. */
const ANY = 8

let classTable: Uint8Array | undefined

/** Class bits of a code point: one table lookup (the 1.1 MB table is expanded on first use). */
function classOf(cp: number): number {
  if (classTable === undefined) {
    classTable = new Uint8Array(0x110000)
    for (let i = 0; i < RANGE_STARTS.length; i++) {
      classTable.fill(RANGE_CLASSES[i]!, RANGE_STARTS[i]!, RANGE_STARTS[i + 1] ?? 0x110000)
    }
  }
  return (cp < 0x110000 ? classTable[cp]! : 0) | ANY
}

const CR = 0x0d
const LF = 0x0a
const OUT_OF_RANGE = 0xffffffff

function asciiLower(cp: number): number {
  // llama.cpp uses unicode_tolower; only ASCII capitals lower-case to the letters tested below.
  return cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp
}

/** Splits code points into pre-tokens; returns the length (in code points) of each piece. */
export function splitQwen2(cpts: readonly number[]): number[] {
  const n = cpts.length
  const cls = cpts.map(classOf)
  const cpt = (pos: number): number => (pos < n ? cpts[pos]! : OUT_OF_RANGE)
  const flags = (pos: number): number => (pos < n ? cls[pos]! : 0)
  const out: number[] = []
  let prevEnd = 0
  const addToken = (end: number): number => {
    const len = end - prevEnd
    if (len > 0) out.push(len)
    prevEnd = end
    return len
  }

  for (let pos = 0; pos < n; ) {
    const c = cpt(pos)
    const f = flags(pos)

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (c === 0x27 && pos + 1 < n) {
      const next = asciiLower(cpt(pos + 1))
      if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
        pos += addToken(pos + 2)
        continue
      }
      if (pos + 2 < n) {
        const nextNext = asciiLower(cpt(pos + 2))
        if ((next === 0x72 && nextNext === 0x65) || (next === 0x76 && nextNext === 0x65) || (next === 0x6c && nextNext === 0x6c)) {
          pos += addToken(pos + 3)
          continue
        }
      }
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(c === CR || c === LF || f & NUMBER)) {
      if (f & LETTER || flags(pos + 1) & LETTER) {
        pos++
        while (flags(pos) & LETTER) pos++
        addToken(pos)
        continue
      }
    }

    // \p{N}
    if (f & NUMBER) {
      pos++
      addToken(pos)
      continue
    }

    // <space>?[^\s\p{L}\p{N}]+[\r\n]*
    let f2 = c === 0x20 ? flags(pos + 1) : f
    if (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f) {
      pos += c === 0x20 ? 1 : 0
      while (!(f2 & (WHITESPACE | LETTER | NUMBER)) && f2) f2 = flags(++pos)
      let c2 = cpt(pos)
      while (c2 === CR || c2 === LF) c2 = cpt(++pos)
      addToken(pos)
      continue
    }

    let numWhitespaces = 0
    let lastEndROrN = 0
    while (flags(pos + numWhitespaces) & WHITESPACE) {
      const c2 = cpt(pos + numWhitespaces)
      if (c2 === CR || c2 === LF) lastEndROrN = pos + numWhitespaces + 1
      numWhitespaces++
    }

    // \s*[\r\n]+
    if (lastEndROrN > 0) {
      pos = lastEndROrN
      addToken(pos)
      continue
    }

    // \s+(?!\S)
    if (numWhitespaces > 1 && cpt(pos + numWhitespaces) !== OUT_OF_RANGE) {
      pos += numWhitespaces - 1
      addToken(pos)
      continue
    }

    // \s+
    if (numWhitespaces > 0) {
      pos += numWhitespaces
      addToken(pos)
      continue
    }

    // no match
    addToken(++pos)
  }
  return out
}

/** Splits text into the pre-tokens BPE merges never cross (what a BPE trainer counts as words). */
export function preTokenize(text: string): string[] {
  const cpts: number[] = []
  const unitOffsets: number[] = []
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!
    cpts.push(cp)
    unitOffsets.push(i)
    i += cp > 0xffff ? 2 : 1
  }
  unitOffsets.push(text.length)
  const pieces: string[] = []
  let at = 0
  for (const len of splitQwen2(cpts)) {
    pieces.push(text.slice(unitOffsets[at], unitOffsets[at + len]))
    at += len
  }
  return pieces
}
