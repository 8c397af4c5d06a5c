/**
 * GGUF container constants, from llama.cpp's `ggml/include/gguf.h` and `ggml/include/ggml.h`
 * (the version vendored by node-llama-cpp 3.22) and `gguf-py/gguf/constants.py`.
 * GGUF spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747
/** The version this writer emits. The reader accepts 2 and 3 (identical layout, 64-bit counts). */
export const GGUF_VERSION = 3
/** `general.alignment` default (gguf.h `GGUF_DEFAULT_ALIGNMENT`). */
export const GGUF_DEFAULT_ALIGNMENT = 32
/** ggml.h `GGML_MAX_DIMS`. */
export const GGML_MAX_DIMS = 4

/** Metadata value types (gguf.h `enum gguf_type`). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType]

/** Scalar element sizes in bytes; STRING and ARRAY are variable. */
export const GGUF_SCALAR_SIZE: Readonly<Record<number, number>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
}

/** Tensor element types (ggml.h `enum ggml_type`); only the ones we can size are listed. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  BF16: 30,
} as const
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType]

/** Elements per block and bytes per block (ggml.c `type_traits`: blck_size, type_size). */
export const GGML_TYPE_LAYOUT: Readonly<Record<number, { readonly name: string; readonly blockSize: number; readonly typeSize: number }>> = {
  [GgmlType.F32]: { name: 'F32', blockSize: 1, typeSize: 4 },
  [GgmlType.F16]: { name: 'F16', blockSize: 1, typeSize: 2 },
  [GgmlType.Q4_0]: { name: 'Q4_0', blockSize: 32, typeSize: 18 },
  [GgmlType.Q4_1]: { name: 'Q4_1', blockSize: 32, typeSize: 20 },
  [GgmlType.Q5_0]: { name: 'Q5_0', blockSize: 32, typeSize: 22 },
  [GgmlType.Q5_1]: { name: 'Q5_1', blockSize: 32, typeSize: 24 },
  [GgmlType.Q8_0]: { name: 'Q8_0', blockSize: 32, typeSize: 34 },
  [GgmlType.Q8_1]: { name: 'Q8_1', blockSize: 32, typeSize: 36 },
  [GgmlType.Q2_K]: { name: 'Q2_K', blockSize: 256, typeSize: 84 },
  [GgmlType.Q3_K]: { name: 'Q3_K', blockSize: 256, typeSize: 110 },
  [GgmlType.Q4_K]: { name: 'Q4_K', blockSize: 256, typeSize: 144 },
  [GgmlType.Q5_K]: { name: 'Q5_K', blockSize: 256, typeSize: 176 },
  [GgmlType.Q6_K]: { name: 'Q6_K', blockSize: 256, typeSize: 210 },
  [GgmlType.Q8_K]: { name: 'Q8_K', blockSize: 256, typeSize: 292 },
  [GgmlType.I8]: { name: 'I8', blockSize: 1, typeSize: 1 },
  [GgmlType.I16]: { name: 'I16', blockSize: 1, typeSize: 2 },
  [GgmlType.I32]: { name: 'I32', blockSize: 1, typeSize: 4 },
  [GgmlType.I64]: { name: 'I64', blockSize: 1, typeSize: 8 },
  [GgmlType.F64]: { name: 'F64', blockSize: 1, typeSize: 8 },
  [GgmlType.BF16]: { name: 'BF16', blockSize: 1, typeSize: 2 },
}

/** Q8_0 block: one f16 scale then 32 int8 quants (ggml-common.h `block_q8_0`). */
export const QK8_0 = 32
