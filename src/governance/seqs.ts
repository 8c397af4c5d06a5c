/**
 * The replay guard: which `seq` numbers of an author have appeared in the final log, as sorted,
 * disjoint, non-adjacent inclusive ranges `[first, last]`. The ledger orders an epoch's entries by
 * hash, so an author's seqs arrive unordered and the guard checks uniqueness, not order; because an
 * honest author's seqs are contiguous, each author needs one or two ranges.
 */
export type SeqRanges = Array<[number, number]>

/** Marks `seq` used; returns false (and changes nothing) when it was already used. */
export function markSeq(ranges: SeqRanges, seq: number): boolean {
  // Fast path: the next seq after the last range.
  const last = ranges[ranges.length - 1]
  if (last !== undefined && seq === last[1] + 1) {
    last[1] = seq
    return true
  }
  // First range whose end is ≥ seq - 1 (the only one seq can fall into or extend).
  let lo = 0
  let hi = ranges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ranges[mid]![1] < seq - 1) lo = mid + 1
    else hi = mid
  }
  const r = ranges[lo]
  if (r === undefined || seq < r[0] - 1) {
    ranges.splice(lo, 0, [seq, seq])
    return true
  }
  if (seq >= r[0] && seq <= r[1]) return false
  if (seq === r[1] + 1) {
    r[1] = seq
    const next = ranges[lo + 1]
    if (next !== undefined && next[0] === seq + 1) {
      r[1] = next[1]
      ranges.splice(lo + 1, 1)
    }
  } else {
    // seq === r[0] - 1 (the previous range ends before seq - 1, so nothing to merge on the left)
    r[0] = seq
  }
  return true
}
