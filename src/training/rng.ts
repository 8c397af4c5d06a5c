/**
 * Counter-based randomness for training: every draw is a pure function of (seed, stream,
 * counter), so initialization and batch sampling are reproducible and a resumed run draws
 * exactly what an uninterrupted one would, without saving RNG state.
 */

/** 32-bit mix (murmur3 fmix32 finalizer) — a bijection with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Uniform 32-bit integer for (seed, stream, counter). */
export function hash32(seed: number, stream: number, counter: number): number {
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0)
  h = fmix32((h ^ Math.imul(stream + 1, 0x27d4eb2f)) >>> 0)
  h = fmix32((h ^ Math.imul(counter >>> 0, 0x165667b1) ^ Math.floor(counter / 0x100000000)) >>> 0)
  return fmix32((h + counter) >>> 0)
}

/** Uniform in (0, 1) for (seed, stream, counter). */
export function uniform(seed: number, stream: number, counter: number): number {
  return (hash32(seed, stream, counter) + 0.5) / 0x100000000
}

/** Standard normal (Box–Muller) for (seed, stream, counter). */
export function normal(seed: number, stream: number, counter: number): number {
  const u1 = uniform(seed, stream, 2 * counter)
  const u2 = uniform(seed, stream, 2 * counter + 1)
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}
