/**
 * A witness threshold is valid when k > 2n/3 and k ≤ n: with f < n/3 faulty witnesses, two
 * different checkpoints can never both gather k cosignatures (Tendermint's quorum intersection).
 */
export function validWitnessThreshold(n: number, k: number): boolean {
  return Number.isInteger(k) && k <= n && 3 * k > 2 * n
}
