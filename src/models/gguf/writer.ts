import { open, rename, rm } from 'node:fs/promises'
import { InvalidModelSpecError } from '../errors.js'
import { GGML_MAX_DIMS, GGML_TYPE_LAYOUT, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgmlType, GgufValueType } from './constants.js'
import { encodeF16, encodeF32, quantizeQ8_0 } from './quantize.js'
import type { GgufArray, GgufValue } from './types.js'

/**
 * Tensor contents: f32 values converted to the tensor's type when written (F32, F16, Q8_0), a
 * function producing them (called once, at write time — lets multi-hundred-MB models stream), or
 * bytes already in the tensor's type.
 */
export type TensorData = Float32Array | readonly number[] | (() => Float32Array) | { readonly raw: Uint8Array }

interface PendingTensor {
  readonly name: string
  readonly shape: readonly number[]
  readonly type: number
  readonly data: TensorData
  readonly byteLength: number
}

/** Progress of `writeFile`, in bytes of tensor data. */
export interface WriteProgress {
  readonly bytesWritten: number
  readonly totalBytes: number
  readonly tensor: string
}

const TYPE_CODE: Readonly<Record<string, number>> = {
  u8: GgufValueType.UINT8,
  i8: GgufValueType.INT8,
  u16: GgufValueType.UINT16,
  i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32,
  i32: GgufValueType.INT32,
  f32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  array: GgufValueType.ARRAY,
  u64: GgufValueType.UINT64,
  i64: GgufValueType.INT64,
  f64: GgufValueType.FLOAT64,
}

/** Growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = new Uint8Array(1 << 16)
  private view = new DataView(this.buf.buffer)
  length = 0
  private static readonly encoder = new TextEncoder()

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): void { this.reserve(1); this.view.setUint8(this.length, v); this.length += 1 }
  i8(v: number): void { this.reserve(1); this.view.setInt8(this.length, v); this.length += 1 }
  u16(v: number): void { this.reserve(2); this.view.setUint16(this.length, v, true); this.length += 2 }
  i16(v: number): void { this.reserve(2); this.view.setInt16(this.length, v, true); this.length += 2 }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4 }
  i32(v: number): void { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4 }
  f32(v: number): void { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4 }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8 }
  u64(v: bigint | number): void { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8 }
  i64(v: bigint): void { this.reserve(8); this.view.setBigInt64(this.length, v, true); this.length += 8 }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length }
  /** GGUF string: u64 byte length + UTF-8 bytes, no terminator. */
  string(s: string): void { const b = ByteSink.encoder.encode(s); this.u64(b.length); this.bytes(b) }
  zeros(n: number): void { this.reserve(n); this.buf.fill(0, this.length, this.length + n); this.length += n }
  result(): Uint8Array { return this.buf.slice(0, this.length) }
}

function checkInt(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidModelSpecError(`${what}: ${value} is not an integer in [${min}, ${max}]`)
  }
}

function writeScalar(sink: ByteSink, type: string, v: number | bigint | boolean | string, key: string): void {
  switch (type) {
    case 'u8': checkInt(v as number, 0, 0xff, key); sink.u8(v as number); break
    case 'i8': checkInt(v as number, -0x80, 0x7f, key); sink.i8(v as number); break
    case 'u16': checkInt(v as number, 0, 0xffff, key); sink.u16(v as number); break
    case 'i16': checkInt(v as number, -0x8000, 0x7fff, key); sink.i16(v as number); break
    case 'u32': checkInt(v as number, 0, 0xffffffff, key); sink.u32(v as number); break
    case 'i32': checkInt(v as number, -0x80000000, 0x7fffffff, key); sink.i32(v as number); break
    case 'f32': sink.f32(v as number); break
    case 'f64': sink.f64(v as number); break
    case 'u64': sink.u64(v as bigint); break
    case 'i64': sink.i64(v as bigint); break
    case 'bool': sink.u8(v ? 1 : 0); break
    case 'string': sink.string(v as string); break
    default: throw new InvalidModelSpecError(`unknown GGUF value type '${type}'`, key)
  }
}

function writeArray(sink: ByteSink, arr: GgufArray, key: string): void {
  sink.u32(TYPE_CODE[arr.itemType]!)
  sink.u64(arr.value.length)
  if (arr.itemType === 'array') {
    for (const inner of arr.value as readonly GgufArray[]) writeArray(sink, inner, key)
  } else {
    for (const item of arr.value) writeScalar(sink, arr.itemType, item as number | bigint | boolean | string, key)
  }
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment
}

/** Bytes a tensor of `shape` takes in `type`; the innermost dimension must fill whole blocks. */
export function tensorByteLength(shape: readonly number[], type: number): number {
  const layout = GGML_TYPE_LAYOUT[type]
  if (layout === undefined) throw new InvalidModelSpecError(`unsupported tensor type ${type}`)
  const inner = shape[shape.length - 1] ?? 1
  if (inner % layout.blockSize !== 0) {
    throw new InvalidModelSpecError(`innermost dimension ${inner} is not a multiple of ${layout.name}'s block size ${layout.blockSize}`)
  }
  const count = shape.reduce((a, b) => a * b, 1)
  return (count / layout.blockSize) * layout.typeSize
}

/**
 * Builds a GGUF v3 file (spec: ggml/docs/gguf.md): header, metadata KV pairs in insertion order,
 * tensor infos, padding to `general.alignment`, then each tensor's data padded to the alignment.
 * Shapes are given row-major (numpy order) and stored reversed as GGUF's `ne`, as gguf-py does.
 * The output depends only on what was added, so the same inputs give byte-identical files.
 */
export class GgufWriter {
  private alignmentValue: number
  private readonly kv = new Map<string, GgufValue>()
  private readonly tensors: PendingTensor[] = []

  constructor(options: { alignment?: number } = {}) {
    this.alignmentValue = GGUF_DEFAULT_ALIGNMENT
    if (options.alignment !== undefined) this.setU32('general.alignment', options.alignment)
  }

  /** Data alignment in bytes (`general.alignment`, default 32). */
  get alignment(): number {
    return this.alignmentValue
  }

  /**
   * Sets a metadata key (replacing an earlier value but keeping its position). `general.alignment`
   * (u32 power of two) also changes the data alignment; when never set, the key is omitted and
   * readers use the default 32, as gguf-py does.
   */
  set(key: string, value: GgufValue): this {
    if (key === 'general.alignment') {
      if (this.tensors.length > 0) throw new InvalidModelSpecError('set the alignment before adding tensors', key)
      if (value.type !== 'u32' || value.value <= 0 || (value.value & (value.value - 1)) !== 0) {
        throw new InvalidModelSpecError('general.alignment must be a u32 power of two', key)
      }
      this.alignmentValue = value.value
    }
    this.kv.set(key, value)
    return this
  }

  setString(key: string, value: string): this { return this.set(key, { type: 'string', value }) }
  setU32(key: string, value: number): this { return this.set(key, { type: 'u32', value }) }
  setI32(key: string, value: number): this { return this.set(key, { type: 'i32', value }) }
  setF32(key: string, value: number): this { return this.set(key, { type: 'f32', value }) }
  setBool(key: string, value: boolean): this { return this.set(key, { type: 'bool', value }) }
  setStringArray(key: string, value: readonly string[]): this { return this.set(key, { type: 'array', itemType: 'string', value }) }
  setI32Array(key: string, value: readonly number[]): this { return this.set(key, { type: 'array', itemType: 'i32', value }) }
  setF32Array(key: string, value: readonly number[]): this { return this.set(key, { type: 'array', itemType: 'f32', value }) }

  /** Adds a tensor; `shape` is row-major (e.g. `[n_vocab, n_embd]` for `token_embd.weight`). */
  addTensor(name: string, shape: readonly number[], type: number, data: TensorData): this {
    if (this.tensors.some((t) => t.name === name)) throw new InvalidModelSpecError(`duplicate tensor '${name}'`, name)
    if (shape.length < 1 || shape.length > GGML_MAX_DIMS || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new InvalidModelSpecError(`tensor '${name}': bad shape [${shape.join(', ')}]`, name)
    }
    if (type !== GgmlType.F32 && type !== GgmlType.F16 && type !== GgmlType.Q8_0 && !('raw' in data)) {
      throw new InvalidModelSpecError(`tensor '${name}': only F32, F16 and Q8_0 can be encoded from floats; pass { raw } for type ${type}`, name)
    }
    const byteLength = tensorByteLength(shape, type)
    if ('raw' in data && data.raw.length !== byteLength) {
      throw new InvalidModelSpecError(`tensor '${name}': raw data is ${data.raw.length} bytes, expected ${byteLength}`, name)
    }
    this.tensors.push({ name, shape: [...shape], type, data, byteLength })
    return this
  }

  /** Header (magic … tensor infos) padded to the alignment. */
  private header(): Uint8Array {
    const sink = new ByteSink()
    sink.u32(GGUF_MAGIC)
    sink.u32(GGUF_VERSION)
    sink.u64(this.tensors.length)
    sink.u64(this.kv.size)
    for (const [key, value] of this.kv) {
      sink.string(key)
      sink.u32(TYPE_CODE[value.type]!)
      if (value.type === 'array') writeArray(sink, value, key)
      else writeScalar(sink, value.type, value.value, key)
    }
    let offset = 0
    for (const t of this.tensors) {
      sink.string(t.name)
      sink.u32(t.shape.length)
      for (let i = t.shape.length - 1; i >= 0; i--) sink.u64(t.shape[i]!)
      sink.u32(t.type)
      sink.u64(offset)
      offset += alignUp(t.byteLength, this.alignment)
    }
    sink.zeros(alignUp(sink.length, this.alignment) - sink.length)
    return sink.result()
  }

  private encodeTensor(t: PendingTensor): Uint8Array {
    if ('raw' in t.data) return t.data.raw
    const values = typeof t.data === 'function' ? t.data() : t.data
    const count = t.shape.reduce((a, b) => a * b, 1)
    if (values.length !== count) {
      throw new InvalidModelSpecError(`tensor '${t.name}': ${values.length} values for shape [${t.shape.join(', ')}]`, t.name)
    }
    if (t.type === GgmlType.F32) return encodeF32(values)
    if (t.type === GgmlType.F16) return encodeF16(values)
    return quantizeQ8_0(values)
  }

  /** Total tensor-data bytes including padding. */
  get dataByteLength(): number {
    return this.tensors.reduce((sum, t) => sum + alignUp(t.byteLength, this.alignment), 0)
  }

  /** The whole file in memory (small models and tests). */
  toBytes(): Uint8Array {
    const header = this.header()
    const out = new Uint8Array(header.length + this.dataByteLength)
    out.set(header, 0)
    let pos = header.length
    for (const t of this.tensors) {
      out.set(this.encodeTensor(t), pos)
      pos += alignUp(t.byteLength, this.alignment)
    }
    return out
  }

  /**
   * Streams the file to `path` one tensor at a time (peak memory ≈ the largest tensor), through a
   * temporary file renamed into place, so a reader never sees a half-written model.
   */
  async writeFile(path: string, options: { onProgress?: (p: WriteProgress) => void; signal?: AbortSignal } = {}): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
    const fh = await open(tmp, 'w')
    try {
      await fh.write(this.header())
      const total = this.dataByteLength
      let written = 0
      for (const t of this.tensors) {
        options.signal?.throwIfAborted()
        const bytes = this.encodeTensor(t)
        await fh.write(bytes)
        const pad = alignUp(t.byteLength, this.alignment) - t.byteLength
        if (pad > 0) await fh.write(new Uint8Array(pad))
        written += t.byteLength + pad
        options.onProgress?.({ bytesWritten: written, totalBytes: total, tensor: t.name })
      }
      await fh.sync()
      await fh.close()
      await rename(tmp, path)
    } catch (err) {
      await fh.close().catch(() => undefined)
      await rm(tmp, { force: true })
      throw err
    }
  }
}
