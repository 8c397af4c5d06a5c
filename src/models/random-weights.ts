import { sha256 } from '../identity/index.js'
import type { LlamaTensorSpec } from './llama-arch.js'

/**
 * Seeded initial weights for synthetic models. Integer-only PRNG (xoshiro128**) and an
 * Irwin–Hall approximation of a normal (sum of 4 uniforms) keep the values identical on every
 * platform and JS engine — no Math.log/cos whose last bits could differ. Each tensor's stream is
 * keyed by sha256(seed, name), so tensors can be generated in any order, one at a time.
 */
export function seededWeights(seed: number): (tensor: LlamaTensorSpec) => Float32Array {
  return (tensor) => {
    const count = tensor.shape.reduce((a, b) => a * b, 1)
    const out = new Float32Array(count)
    if (tensor.isNorm) return out.fill(1)
    const key = sha256(`commons-weights:${seed >>> 0}:${tensor.name}`)
    const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
    let s0 = view.getUint32(0) | 1
    let s1 = view.getUint32(4)
    let s2 = view.getUint32(8)
    let s3 = view.getUint32(12)
    const next = (): number => {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
      const t = s1 << 9
      s2 ^= s0
      s3 ^= s1
      s1 ^= s2
      s0 ^= s3
      s2 ^= t
      s3 = rotl(s3, 11)
      return result
    }
    // std of a sum of 4 U(−0.5, 0.5) is sqrt(4/12); scale to the usual 1/sqrt(fan_in) init,
    // with the embedding at std 1 so logits of a random model are not all alike.
    const fanIn = tensor.shape[tensor.shape.length - 1]!
    const std = tensor.name === 'token_embd.weight' ? 1 : 1 / Math.sqrt(fanIn)
    const scale = std / Math.sqrt(4 / 12)
    const u = 2 ** -32
    for (let i = 0; i < count; i++) {
      out[i] = (next() * u + next() * u + next() * u + next() * u - 2) * scale
    }
    return out
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
