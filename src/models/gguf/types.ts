import type { GgmlType } from './constants.js'

/**
 * A typed GGUF metadata value. Numbers are kept with their wire type so a file can be
 * re-written byte for byte; 64-bit integers are `bigint`.
 */
export type GgufScalar =
  | { readonly type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; readonly value: number }
  | { readonly type: 'u64' | 'i64'; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }

export type GgufScalarType = GgufScalar['type']

/** Arrays hold elements of one type; nested arrays are allowed by the spec. */
export type GgufArray =
  | { readonly type: 'array'; readonly itemType: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; readonly value: readonly number[] }
  | { readonly type: 'array'; readonly itemType: 'u64' | 'i64'; readonly value: readonly bigint[] }
  | { readonly type: 'array'; readonly itemType: 'bool'; readonly value: readonly boolean[] }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly value: readonly string[] }
  | { readonly type: 'array'; readonly itemType: 'array'; readonly value: readonly GgufArray[] }

export type GgufValue = GgufScalar | GgufArray

/** Description of one tensor as stored in the file header. */
export interface GgufTensorInfo {
  readonly name: string
  /** Row-major shape (outermost first, like numpy/PyTorch); the file stores it reversed (`ne`). */
  readonly shape: readonly number[]
  readonly type: GgmlType | number
  /** Offset from the start of the tensor data section (a multiple of the alignment). */
  readonly offset: number
  /** Number of bytes of data. */
  readonly byteLength: number
  readonly elementCount: number
}
