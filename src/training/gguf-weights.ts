/**
 * Reads a llama-arch GGUF written by `exportGguf` back into our parameter layout (dequantizing
 * Q8_0/F16 to f32) — so the parity test and the evaluation run our forward pass on exactly the
 * weights llama.cpp loads.
 */
import { GgmlType, decodeF16, decodeF32, dequantizeQ8_0, llamaTensors, openGguf } from '../models/index.js'
import { llamaHyperparameters, transpose } from './export.js'
import type { ModelConfig } from './config.js'
import { ModelShapeError } from './errors.js'

/** Parameters (our layout, f32) stored in a GGUF file of config `cfg`. */
export function paramsFromGguf(path: string, cfg: ModelConfig): Map<string, Float32Array> {
  const f = openGguf(path)
  try {
    const out = new Map<string, Float32Array>()
    for (const spec of llamaTensors(llamaHyperparameters(cfg))) {
      if (spec.name === 'output.weight') continue
      const info = f.tensors.find((t) => t.name === spec.name)
      if (!info) throw new ModelShapeError(`${path} has no tensor ${spec.name}`)
      const bytes = f.tensorBytes(spec.name)
      const data = info.type === GgmlType.Q8_0 ? dequantizeQ8_0(bytes) : info.type === GgmlType.F16 ? decodeF16(bytes) : decodeF32(bytes)
      if (spec.shape.length === 1 || spec.name === 'token_embd.weight') out.set(spec.name, data)
      else {
        const [rows, cols] = spec.shape as [number, number]
        out.set(spec.name, transpose(data, rows, cols))
      }
    }
    return out
  } finally {
    f.close()
  }
}
