import { InvalidModelSpecError } from '../errors.js'
import { QK8_0 } from './constants.js'

// Reinterpretation scratch space: f32 <-> u32 bit casts without allocation.
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

function bitsOf(x: number): number {
  f32[0] = x
  return u32[0]!
}

function floatOf(bits: number): number {
  u32[0] = bits >>> 0
  return f32[0]!
}

const SCALE_TO_INF = 2 ** 112
const SCALE_TO_ZERO = 2 ** -110

/**
 * float32 → IEEE binary16 bits, round-to-nearest-even, bit-exact with ggml's
 * `ggml_compute_fp32_to_fp16` (ggml-impl.h; after Maratyszcza's FP16 library). Every arithmetic
 * step is rounded to float32 with `Math.fround`, as the C code computes in float.
 */
export function fp32ToFp16(value: number): number {
  const f = Math.fround(value)
  let base = Math.fround(Math.fround(Math.abs(f) * SCALE_TO_INF) * SCALE_TO_ZERO)
  const w = bitsOf(f)
  const shl1W = (w * 2) >>> 0
  const sign = w & 0x80000000
  let bias = shl1W & 0xff000000
  if (bias >>> 0 < 0x71000000) bias = 0x71000000
  base = Math.fround(floatOf(((bias >>> 1) + 0x07800000) >>> 0) + base)
  const bits = bitsOf(base)
  const expBits = (bits >>> 13) & 0x00007c00
  const mantissaBits = bits & 0x00000fff
  const nonsign = expBits + mantissaBits
  return ((sign >>> 16) | (shl1W > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff
}

/** IEEE binary16 bits → number (exact). */
export function fp16ToFp32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >>> 10) & 0x1f
  const mant = h & 0x3ff
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

/** Encodes values as little-endian F16. */
export function encodeF16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, fp32ToFp16(values[i]!), true)
  return out
}

/** Decodes little-endian F16 bytes. */
export function decodeF16(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 1
  const out = new Float32Array(n)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < n; i++) out[i] = fp16ToFp32(view.getUint16(i * 2, true))
  return out
}

/** Encodes values as little-endian F32. */
export function encodeF32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true)
  return out
}

/** Decodes little-endian F32 bytes. */
export function decodeF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 2
  const out = new Float32Array(n)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

/** C `roundf`: halves round away from zero. */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5)
}

/**
 * Q8_0 quantization, bit-exact with ggml's `quantize_row_q8_0_ref` (ggml-quants.c): per block of
 * 32, d = amax/127 (f32), stored as f16; q = roundf(x · (1/d)). Length must be a multiple of 32.
 */
export function quantizeQ8_0(values: ArrayLike<number>): Uint8Array {
  if (values.length % QK8_0 !== 0) {
    throw new InvalidModelSpecError(`Q8_0 needs a multiple of ${QK8_0} values, got ${values.length}`)
  }
  const blocks = values.length / QK8_0
  const out = new Uint8Array(blocks * 34)
  const view = new DataView(out.buffer)
  for (let b = 0; b < blocks; b++) {
    const base = b * QK8_0
    let amax = 0
    for (let j = 0; j < QK8_0; j++) {
      const v = Math.abs(Math.fround(values[base + j]!))
      if (v > amax) amax = v
    }
    const d = Math.fround(amax / 127)
    const id = d !== 0 ? Math.fround(1 / d) : 0
    view.setUint16(b * 34, fp32ToFp16(d), true)
    for (let j = 0; j < QK8_0; j++) {
      const x0 = Math.fround(Math.fround(values[base + j]!) * id)
      view.setInt8(b * 34 + 2 + j, roundHalfAwayFromZero(x0))
    }
  }
  return out
}

/** Q8_0 → f32, as ggml's `dequantize_row_q8_0`: x = q · f16(d). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  if (bytes.length % 34 !== 0) {
    throw new InvalidModelSpecError(`Q8_0 data must be whole 34-byte blocks, got ${bytes.length} bytes`)
  }
  const blocks = bytes.length / 34
  const out = new Float32Array(blocks * QK8_0)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let b = 0; b < blocks; b++) {
    const d = fp16ToFp32(view.getUint16(b * 34, true))
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = Math.fround(view.getInt8(b * 34 + 2 + j) * d)
  }
  return out
}
