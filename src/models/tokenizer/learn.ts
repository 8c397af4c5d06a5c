import { BYTE_TO_CHAR } from './byte-unicode.js'
import { preTokenize } from './pretokenize.js'
import { DEFAULT_SPECIALS, type TokenizerSpec } from './spec.js'

const encoder = new TextEncoder()

/**
 * A small, deterministic BPE learner for built-in vocabularies (the tiny model, tests): counts
 * pre-token words, then `mergeCount` times merges the most frequent adjacent pair (ties broken by
 * the pair's text, so the result depends only on the input). Quadratic-ish; meant for corpora of
 * kilobytes, not for training real models.
 */
export function learnMerges(text: string, mergeCount: number): TokenizerSpec {
  const counts = new Map<string, number>()
  for (const piece of preTokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1)
  const words: Array<{ symbols: string[]; count: number }> = []
  for (const [piece, count] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    words.push({ symbols: Array.from(encoder.encode(piece), (b) => BYTE_TO_CHAR[b]!), count })
  }
  const merges: Array<[string, string]> = []
  const known = new Set<string>(BYTE_TO_CHAR)
  for (let m = 0; m < mergeCount; m++) {
    const pairCounts = new Map<string, number>()
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const key = `${w.symbols[i]} ${w.symbols[i + 1]}`
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + w.count)
      }
    }
    let best: string | undefined
    let bestCount = 0
    for (const [key, c] of pairCounts) {
      const [l, r] = key.split(' ') as [string, string]
      if (known.has(l + r)) continue
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key
        bestCount = c
      }
    }
    if (best === undefined || bestCount < 2) break
    const [left, right] = best.split(' ') as [string, string]
    merges.push([left, right])
    known.add(left + right)
    for (const w of words) {
      const out: string[] = []
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === left && w.symbols[i + 1] === right) {
          out.push(left + right)
          i++
        } else {
          out.push(w.symbols[i]!)
        }
      }
      w.symbols = out
    }
  }
  return { merges, specials: { ...DEFAULT_SPECIALS } }
}
