import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { CorruptModelError } from '../errors.js'
import { GGML_MAX_DIMS, GGML_TYPE_LAYOUT, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_SCALAR_SIZE, GgmlType, GgufValueType } from './constants.js'
import { decodeF16, decodeF32, dequantizeQ8_0 } from './quantize.js'
import type { GgufArray, GgufScalarType, GgufTensorInfo, GgufValue } from './types.js'

/**
 * Random-access bytes of an untrusted GGUF file. `read` returns fewer bytes than asked only at
 * the end of the source.
 */
export interface ByteSource {
  readonly size: number
  read(offset: number, length: number): Uint8Array
  close(): void
}

/** A GGUF byte source over an in-memory buffer. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
    close: () => undefined,
  }
}

/** A GGUF byte source over a file descriptor (positional reads; nothing is mapped). */
export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r')
  let closed = false
  try {
    const size = fstatSync(fd).size
    return {
      size,
      read(offset, length) {
        const n = Math.max(0, Math.min(length, size - offset))
        const buf = new Uint8Array(n)
        let got = 0
        while (got < n) {
          const r = readSync(fd, buf, got, n - got, offset + got)
          if (r === 0) break
          got += r
        }
        return got === n ? buf : buf.subarray(0, got)
      },
      close() {
        if (!closed) closeSync(fd)
        closed = true
      },
    }
  } catch (err) {
    closeSync(fd)
    throw err
  }
}

const SCALAR_NAME: Readonly<Record<number, GgufScalarType>> = {
  [GgufValueType.UINT8]: 'u8',
  [GgufValueType.INT8]: 'i8',
  [GgufValueType.UINT16]: 'u16',
  [GgufValueType.INT16]: 'i16',
  [GgufValueType.UINT32]: 'u32',
  [GgufValueType.INT32]: 'i32',
  [GgufValueType.FLOAT32]: 'f32',
  [GgufValueType.BOOL]: 'bool',
  [GgufValueType.STRING]: 'string',
  [GgufValueType.UINT64]: 'u64',
  [GgufValueType.INT64]: 'i64',
  [GgufValueType.FLOAT64]: 'f64',
}

/** Sequential reader over a ByteSource that buffers chunks and fails cleanly on truncation. */
class Cursor {
  private chunk: Uint8Array = new Uint8Array(0)
  private chunkStart = 0
  pos = 0
  private static readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(private readonly src: ByteSource) {}

  get remaining(): number {
    return this.src.size - this.pos
  }

  private take(n: number, what: string): DataView {
    if (n > this.remaining) throw new CorruptModelError(`truncated file: need ${n} bytes for ${what} at offset ${this.pos}, ${this.remaining} left`)
    const rel = this.pos - this.chunkStart
    if (rel < 0 || rel + n > this.chunk.length) {
      this.chunk = this.src.read(this.pos, Math.max(n, 1 << 20))
      this.chunkStart = this.pos
    }
    const start = this.pos - this.chunkStart
    this.pos += n
    return new DataView(this.chunk.buffer, this.chunk.byteOffset + start, n)
  }

  u8(what: string): number { return this.take(1, what).getUint8(0) }
  i8(what: string): number { return this.take(1, what).getInt8(0) }
  u16(what: string): number { return this.take(2, what).getUint16(0, true) }
  i16(what: string): number { return this.take(2, what).getInt16(0, true) }
  u32(what: string): number { return this.take(4, what).getUint32(0, true) }
  i32(what: string): number { return this.take(4, what).getInt32(0, true) }
  f32(what: string): number { return this.take(4, what).getFloat32(0, true) }
  f64(what: string): number { return this.take(8, what).getFloat64(0, true) }
  u64big(what: string): bigint { return this.take(8, what).getBigUint64(0, true) }
  i64(what: string): bigint { return this.take(8, what).getBigInt64(0, true) }

  /** u64 that must fit a JS safe integer and not exceed `max` (a bound derived from file size). */
  count(what: string, max: number): number {
    const v = this.u64big(what)
    if (v > BigInt(max)) throw new CorruptModelError(`${what} ${v} out of range (max ${max}) at offset ${this.pos - 8}`)
    return Number(v)
  }

  string(what: string): string {
    const len = this.count(`${what} length`, this.remaining)
    const view = this.take(len, what)
    try {
      return Cursor.decoder.decode(view)
    } catch (cause) {
      throw new CorruptModelError(`${what} is not valid UTF-8 at offset ${this.pos - len}`, { cause })
    }
  }
}

function readScalar(cur: Cursor, type: number, what: string): number | bigint | boolean | string {
  switch (type) {
    case GgufValueType.UINT8: return cur.u8(what)
    case GgufValueType.INT8: return cur.i8(what)
    case GgufValueType.UINT16: return cur.u16(what)
    case GgufValueType.INT16: return cur.i16(what)
    case GgufValueType.UINT32: return cur.u32(what)
    case GgufValueType.INT32: return cur.i32(what)
    case GgufValueType.FLOAT32: return cur.f32(what)
    case GgufValueType.FLOAT64: return cur.f64(what)
    case GgufValueType.UINT64: return cur.u64big(what)
    case GgufValueType.INT64: return cur.i64(what)
    case GgufValueType.BOOL: {
      const b = cur.u8(what)
      if (b > 1) throw new CorruptModelError(`${what}: bool byte ${b}`)
      return b === 1
    }
    case GgufValueType.STRING: return cur.string(what)
    default: throw new CorruptModelError(`${what}: unknown value type ${type}`)
  }
}

function readArray(cur: Cursor, what: string, depth: number): GgufArray {
  if (depth > 8) throw new CorruptModelError(`${what}: arrays nested too deep`)
  const itemType = cur.u32(`${what} item type`)
  // Each element takes at least one byte (strings 8), so the count is bounded by what is left.
  const minSize = itemType === GgufValueType.STRING || itemType === GgufValueType.ARRAY ? 12 : (GGUF_SCALAR_SIZE[itemType] ?? 1)
  const n = cur.count(`${what} count`, Math.floor(cur.remaining / minSize))
  if (itemType === GgufValueType.ARRAY) {
    const value: GgufArray[] = []
    for (let i = 0; i < n; i++) value.push(readArray(cur, what, depth + 1))
    return { type: 'array', itemType: 'array', value }
  }
  const name = SCALAR_NAME[itemType]
  if (name === undefined) throw new CorruptModelError(`${what}: unknown array item type ${itemType}`)
  const value: Array<number | bigint | boolean | string> = new Array(n)
  for (let i = 0; i < n; i++) value[i] = readScalar(cur, itemType, what)
  return { type: 'array', itemType: name, value } as GgufArray
}

function readValue(cur: Cursor, type: number, what: string): GgufValue {
  if (type === GgufValueType.ARRAY) return readArray(cur, what, 0)
  const name = SCALAR_NAME[type]
  if (name === undefined) throw new CorruptModelError(`${what}: unknown value type ${type}`)
  return { type: name, value: readScalar(cur, type, what) } as GgufValue
}

/** Parsed header of a GGUF file plus access to its tensor data. */
export interface GgufFile {
  readonly version: number
  readonly alignment: number
  readonly metadata: ReadonlyMap<string, GgufValue>
  readonly tensors: readonly GgufTensorInfo[]
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number
  readonly fileSize: number
  /** Raw bytes of a tensor, read on demand. */
  tensorBytes(name: string): Uint8Array
  /** A tensor as f32 values (F32, F16 and Q8_0 only). */
  tensorF32(name: string): Float32Array
  /** Releases the file descriptor (no-op for buffers). */
  close(): void
}

/** Returns the scalar value of a metadata key, or undefined. */
export function metadataValue(file: Pick<GgufFile, 'metadata'>, key: string): number | bigint | boolean | string | undefined {
  const v = file.metadata.get(key)
  return v === undefined || v.type === 'array' ? undefined : v.value
}

/**
 * Parses and validates a GGUF v2/v3 file, following llama.cpp's `gguf_init_from_file_impl`
 * (ggml/src/gguf.cpp): magic, version, bounded counts, unique keys and tensor names, ≤ 4 dims,
 * known tensor types whose innermost dim fills whole blocks, tensors laid out in order at
 * aligned offsets, and data inside the file. Anything else throws `CorruptModelError` — this is
 * how a node checks a model file from disk or a peer before handing it to llama.cpp.
 */
export function readGguf(src: ByteSource): GgufFile {
  const cur = new Cursor(src)
  try {
    if (src.size < 24) throw new CorruptModelError(`file too small for a GGUF header (${src.size} bytes)`)
    const magic = cur.u32('magic')
    if (magic !== GGUF_MAGIC) throw new CorruptModelError(`bad magic 0x${magic.toString(16).padStart(8, '0')}, not a GGUF file`)
    const version = cur.u32('version')
    if (version !== 2 && version !== 3) throw new CorruptModelError(`unsupported GGUF version ${version}`)
    // Each tensor info takes ≥ 24 bytes and each KV ≥ 13, which bounds the counts by the file size.
    const nTensors = cur.count('tensor count', Math.floor(src.size / 24))
    const nKv = cur.count('metadata count', Math.floor(src.size / 13))

    const metadata = new Map<string, GgufValue>()
    for (let i = 0; i < nKv; i++) {
      const key = cur.string(`key #${i}`)
      if (metadata.has(key)) throw new CorruptModelError(`duplicate metadata key '${key}'`)
      const type = cur.u32(`type of '${key}'`)
      metadata.set(key, readValue(cur, type, `'${key}'`))
    }

    let alignment = GGUF_DEFAULT_ALIGNMENT
    const al = metadata.get('general.alignment')
    if (al !== undefined) {
      if (al.type !== 'u32' || al.value === 0 || (al.value & (al.value - 1)) !== 0) {
        throw new CorruptModelError('general.alignment must be a u32 power of two')
      }
      alignment = al.value
    }

    const tensors: GgufTensorInfo[] = []
    const names = new Set<string>()
    for (let i = 0; i < nTensors; i++) {
      const name = cur.string(`tensor #${i} name`)
      if (names.has(name)) throw new CorruptModelError(`duplicate tensor '${name}'`)
      names.add(name)
      const nDims = cur.u32(`'${name}' n_dims`)
      if (nDims < 1 || nDims > GGML_MAX_DIMS) throw new CorruptModelError(`tensor '${name}' has ${nDims} dims`)
      const ne: number[] = []
      let elements = 1n
      for (let d = 0; d < nDims; d++) {
        const n = cur.u64big(`'${name}' dim ${d}`)
        elements *= n
        if (n === 0n || elements > BigInt(src.size) * 8n) throw new CorruptModelError(`tensor '${name}' dims out of range`)
        ne.push(Number(n))
      }
      const type = cur.u32(`'${name}' type`)
      const layout = GGML_TYPE_LAYOUT[type]
      if (layout === undefined) throw new CorruptModelError(`tensor '${name}' has unsupported type ${type}`)
      if (ne[0]! % layout.blockSize !== 0) {
        throw new CorruptModelError(`tensor '${name}': row of ${ne[0]} is not a multiple of ${layout.name} block size ${layout.blockSize}`)
      }
      const offset = cur.count(`'${name}' offset`, src.size)
      const elementCount = Number(elements)
      tensors.push({
        name,
        shape: [...ne].reverse(),
        type,
        offset,
        byteLength: (elementCount / layout.blockSize) * layout.typeSize,
        elementCount,
      })
    }

    const dataOffset = Math.ceil(cur.pos / alignment) * alignment
    let expected = 0
    for (const t of tensors) {
      if (t.offset !== expected) throw new CorruptModelError(`tensor '${t.name}' has offset ${t.offset}, expected ${expected}`)
      if (dataOffset + t.offset + t.byteLength > src.size) {
        throw new CorruptModelError(`tensor '${t.name}' data [${dataOffset + t.offset}, +${t.byteLength}) runs past the end of the file (${src.size} bytes)`)
      }
      expected += Math.ceil(t.byteLength / alignment) * alignment
    }

    const byName = new Map(tensors.map((t) => [t.name, t]))
    const info = (name: string): GgufTensorInfo => {
      const t = byName.get(name)
      if (t === undefined) throw new CorruptModelError(`no tensor '${name}' in the file`)
      return t
    }
    const tensorBytes = (name: string): Uint8Array => {
      const t = info(name)
      const bytes = src.read(dataOffset + t.offset, t.byteLength)
      if (bytes.length !== t.byteLength) throw new CorruptModelError(`tensor '${name}' truncated`)
      return bytes
    }
    return {
      version,
      alignment,
      metadata,
      tensors,
      dataOffset,
      fileSize: src.size,
      tensorBytes,
      tensorF32(name) {
        const t = info(name)
        const bytes = tensorBytes(name)
        if (t.type === GgmlType.F32) return decodeF32(bytes)
        if (t.type === GgmlType.F16) return decodeF16(bytes)
        if (t.type === GgmlType.Q8_0) return dequantizeQ8_0(bytes)
        throw new CorruptModelError(`tensor '${name}': dequantizing ${GGML_TYPE_LAYOUT[t.type]?.name ?? t.type} is not supported`)
      },
      close: () => src.close(),
    }
  } catch (err) {
    src.close()
    if (err instanceof CorruptModelError) throw err
    throw new CorruptModelError(`unreadable GGUF: ${(err as Error).message}`, { cause: err })
  }
}

/** Opens and validates a GGUF file on disk; call `close()` when done with its tensors. */
export function openGguf(path: string): GgufFile {
  return readGguf(fileSource(path))
}

/** Parses and validates an in-memory GGUF file. */
export function parseGguf(bytes: Uint8Array): GgufFile {
  return readGguf(bufferSource(bytes))
}
