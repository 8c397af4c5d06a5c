/**
 * Counter-based pseudo-random function for sampling (DESIGN.md, "Jobs"): the draw for output
 * token t and vocabulary entry i depends only on (seed, t, i), so any worker can continue a
 * stream at token t and any verifier can replay the choice of token t.
 *
 * The PRF is Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; reference implementation Random123 `philox.h`), checked against Random123's
 * published known-answer vectors in the tests. Layout used by Commons:
 *   counter = (t, i, 0, 0), key = (seed, 0), all unsigned 32-bit;
 *   u = (⌊w0 / 2^5⌋ · 2^26 + ⌊w1 / 2^6⌋ + 0.5) / 2^53, a double in the open interval (0, 1).
 * Only 32-bit integer arithmetic is used, so results are identical on every JS engine and easy
 * to reproduce in any language.
 */

// Philox4x32 multipliers and Weyl key increments (Random123 philox.h).
const M0 = 0xd2511f53
const M1 = 0xcd9e8d57
const W0 = 0x9e3779b9
const W1 = 0xbb67ae85
const ROUNDS = 10

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi32(a: number, b: number): number {
  const al = a & 0xffff
  const ah = a >>> 16
  const bl = b & 0xffff
  const bh = b >>> 16
  const lolo = al * bl
  const mid1 = ah * bl
  const mid2 = al * bh
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16
  return (ah * bh + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0
}

const block = new Uint32Array(4)

/**
 * Philox4x32-10 block function: encrypts a 128-bit counter under a 64-bit key. Returns a view
 * that the next call overwrites (copy it to keep it).
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): Uint32Array {
  let x0 = c0 >>> 0
  let x1 = c1 >>> 0
  let x2 = c2 >>> 0
  let x3 = c3 >>> 0
  let key0 = k0 >>> 0
  let key1 = k1 >>> 0
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) {
      key0 = (key0 + W0) >>> 0
      key1 = (key1 + W1) >>> 0
    }
    const hi0 = mulhi32(M0, x0)
    const lo0 = Math.imul(M0, x0) >>> 0
    const hi1 = mulhi32(M1, x2)
    const lo1 = Math.imul(M1, x2) >>> 0
    const y0 = (hi1 ^ x1 ^ key0) >>> 0
    const y2 = (hi0 ^ x3 ^ key1) >>> 0
    x0 = y0
    x1 = lo1
    x2 = y2
    x3 = lo0
  }
  block[0] = x0
  block[1] = x1
  block[2] = x2
  block[3] = x3
  return block
}

const TWO_POW_26 = 67108864
const TWO_POW_53 = 9007199254740992

/** Uniform draw in (0, 1) for (seed, output index t, token id i); see the module comment. */
export function uniform(seed: number, t: number, i: number): number {
  const w = philox4x32(t, i, 0, 0, seed, 0)
  return ((w[0]! >>> 5) * TWO_POW_26 + (w[1]! >>> 6) + 0.5) / TWO_POW_53
}

/** Standard Gumbel draw g = −log(−log(u)) with u = uniform(seed, t, i). */
export function gumbel(seed: number, t: number, i: number): number {
  return -Math.log(-Math.log(uniform(seed, t, i)))
}
