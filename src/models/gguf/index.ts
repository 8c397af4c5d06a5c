/** GGUF v3 container: writer, validating reader, F16/Q8_0 codecs. */
export { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GGML_TYPE_LAYOUT, GgmlType, GgufValueType, QK8_0 } from './constants.js'
export type { GgufArray, GgufScalar, GgufTensorInfo, GgufValue } from './types.js'
export { GgufWriter, tensorByteLength, type TensorData, type WriteProgress } from './writer.js'
export { bufferSource, fileSource, metadataValue, openGguf, parseGguf, readGguf, type ByteSource, type GgufFile } from './reader.js'
export { decodeF16, decodeF32, dequantizeQ8_0, encodeF16, encodeF32, fp16ToFp32, fp32ToFp16, quantizeQ8_0 } from './quantize.js'
