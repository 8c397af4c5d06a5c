import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CorruptModelError } from '../../src/models/errors.js'
import {
  GgmlType,
  GgufWriter,
  dequantizeQ8_0,
  fp16ToFp32,
  fp32ToFp16,
  metadataValue,
  openGguf,
  parseGguf,
  quantizeQ8_0,
} from '../../src/models/gguf/index.js'

const fixtures = new URL('../fixtures/models/', import.meta.url)
const reference = new Uint8Array(readFileSync(new URL('reference.gguf', fixtures)))
const inputs = JSON.parse(readFileSync(new URL('reference.json', fixtures), 'utf8')) as { f32: number[]; f16: number[]; q8: number[] }

/** Same calls, in the same order, as test/fixtures/models/make-gguf-reference.py (gguf-py). */
function buildReference(): GgufWriter {
  return new GgufWriter()
    .setString('general.architecture', 'test')
    .set('t.u8', { type: 'u8', value: 200 })
    .set('t.i8', { type: 'i8', value: -100 })
    .set('t.u16', { type: 'u16', value: 60000 })
    .set('t.i16', { type: 'i16', value: -30000 })
    .setU32('t.u32', 4000000000)
    .setI32('t.i32', -2000000000)
    .setF32('t.f32', 0.1)
    .setBool('t.bool', true)
    .setString('t.string', 'héllo, 世界 🌍')
    .set('t.u64', { type: 'u64', value: 2n ** 63n + 5n })
    .set('t.i64', { type: 'i64', value: -(2n ** 62n) })
    .set('t.f64', { type: 'f64', value: 0.1 })
    .setStringArray('t.strings', ['a', '', 'Ġthe', '<|endoftext|>'])
    .setI32Array('t.ints', [1, -2, 3])
    .setF32Array('t.floats', [0.5, -1.25])
    .addTensor('f32', [2, 3], GgmlType.F32, Float32Array.from(inputs.f32))
    .addTensor('f16', [4, 5], GgmlType.F16, Float32Array.from(inputs.f16))
    .addTensor('q8', [4, 64], GgmlType.Q8_0, () => Float32Array.from(inputs.q8))
}

test('writer output is byte-identical to llama.cpp gguf-py for every value type and F32/F16/Q8_0', () => {
  const ours = buildReference().toBytes()
  assert.equal(ours.length, reference.length)
  assert.deepEqual(ours, reference)
})

test('reader parses the gguf-py reference file: metadata, shapes, tensor data', () => {
  const f = parseGguf(reference)
  assert.equal(f.version, 3)
  assert.equal(f.alignment, 32)
  assert.equal(metadataValue(f, 'general.architecture'), 'test')
  assert.equal(metadataValue(f, 't.u64'), 2n ** 63n + 5n)
  assert.equal(metadataValue(f, 't.i64'), -(2n ** 62n))
  assert.equal(metadataValue(f, 't.i8'), -100)
  assert.equal(metadataValue(f, 't.bool'), true)
  assert.equal(metadataValue(f, 't.string'), 'héllo, 世界 🌍')
  assert.equal(metadataValue(f, 't.f32'), Math.fround(0.1))
  assert.deepEqual(f.metadata.get('t.strings'), { type: 'array', itemType: 'string', value: ['a', '', 'Ġthe', '<|endoftext|>'] })
  assert.deepEqual(f.metadata.get('t.ints'), { type: 'array', itemType: 'i32', value: [1, -2, 3] })
  assert.deepEqual(
    f.tensors.map((t) => [t.name, t.shape, t.type, t.offset, t.byteLength]),
    [
      ['f32', [2, 3], GgmlType.F32, 0, 24],
      ['f16', [4, 5], GgmlType.F16, 32, 40],
      ['q8', [4, 64], GgmlType.Q8_0, 96, 272],
    ],
  )
  assert.deepEqual(Array.from(f.tensorF32('f32')), inputs.f32.map(Math.fround))
  // Dequantized Q8_0 is close to the input: error at most half a quantization step per block.
  const q = f.tensorF32('q8')
  for (let b = 0; b < inputs.q8.length / 32; b++) {
    const block = inputs.q8.slice(b * 32, b * 32 + 32)
    const step = Math.max(...block.map(Math.abs)) / 127
    if (step < 1e-4) continue // f16 scale is subnormal there: the byte-identity test covers it
    for (let j = 0; j < 32; j++) assert.ok(Math.abs(q[b * 32 + j]! - block[j]!) <= step * 0.5 + 1e-3 * step + 1e-12)
  }
})

test('fp32 → fp16 rounds to nearest even and saturates like ggml', () => {
  assert.equal(fp32ToFp16(1), 0x3c00)
  assert.equal(fp32ToFp16(-2), 0xc000)
  assert.equal(fp32ToFp16(65504), 0x7bff)
  assert.equal(fp32ToFp16(65520), 0x7c00) // rounds up to infinity
  assert.equal(fp32ToFp16(2049), 0x6800) // tie → even (2048)
  assert.equal(fp32ToFp16(2051), 0x6802) // tie → even (2052)
  assert.equal(fp32ToFp16(2 ** -24), 0x0001) // smallest subnormal
  assert.equal(fp32ToFp16(NaN) & 0x7e00, 0x7e00)
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(fp32ToFp16(fp16ToFp32(h)), h)
})

test('Q8_0 round-trips its own dequantized values exactly', () => {
  const values = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)))
  const once = dequantizeQ8_0(quantizeQ8_0(values))
  assert.deepEqual(quantizeQ8_0(once), quantizeQ8_0(values))
})

test('writeFile streams the same bytes as toBytes, and openGguf reads them back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'models-gguf-'))
  try {
    const path = join(dir, 'ref.gguf')
    const progress: number[] = []
    await buildReference().writeFile(path, { onProgress: (p) => progress.push(p.bytesWritten) })
    assert.deepEqual(new Uint8Array(readFileSync(path)), reference)
    assert.deepEqual(progress, [32, 96, 384])
    const f = openGguf(path)
    assert.deepEqual(f.tensorBytes('q8'), reference.subarray(f.dataOffset + 96, f.dataOffset + 96 + 272))
    f.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('writer rejects shapes Q8_0 cannot hold and duplicate tensors', () => {
  const w = new GgufWriter()
  assert.throws(() => w.addTensor('x', [2, 33], GgmlType.Q8_0, new Float32Array(66)), /multiple of Q8_0/)
  w.addTensor('y', [32], GgmlType.Q8_0, new Float32Array(32))
  assert.throws(() => w.addTensor('y', [32], GgmlType.F32, new Float32Array(32)), /duplicate/)
})

test('reader rejects corrupt files with CorruptModelError, never a crash', () => {
  const bad: Array<[string, Uint8Array]> = []
  const withMagic = reference.slice()
  withMagic[0] = 0x47 + 1
  bad.push(['bad magic', withMagic])
  const version = reference.slice()
  new DataView(version.buffer).setUint32(4, 99, true)
  bad.push(['bad version', version])
  const hugeKv = reference.slice()
  new DataView(hugeKv.buffer).setBigUint64(16, 2n ** 60n, true)
  bad.push(['huge kv count', hugeKv])
  bad.push(['empty', new Uint8Array(0)])
  // Every truncation point must fail cleanly (header, tensor infos and data; the last tensor's
  // trailing padding, bytes 1008…1023, is optional).
  for (let n = 1; n < 1008; n += 13) bad.push([`truncated to ${n}`, reference.slice(0, n)])
  // A corrupt string length inside the metadata.
  const key0 = reference.slice()
  new DataView(key0.buffer).setBigUint64(24, 2n ** 40n, true)
  bad.push(['huge string', key0])
  // Random byte flips in the header region: either still parses, or a CorruptModelError.
  let seed = 42
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24
  for (let i = 0; i < 300; i++) {
    const b = reference.slice()
    const at = Math.floor(rand() * 640)
    b[at] = Math.floor(rand() * 256)
    try {
      parseGguf(b)
    } catch (err) {
      assert.ok(err instanceof CorruptModelError, `flip at ${at}: ${String(err)}`)
    }
  }
  for (const [what, bytes] of bad) {
    assert.throws(() => parseGguf(bytes), CorruptModelError, what)
  }
})

test('reader rejects tensors whose data lies past the end of a file on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'models-gguf-'))
  try {
    const path = join(dir, 'cut.gguf')
    writeFileSync(path, reference.subarray(0, reference.length - 100))
    assert.throws(() => openGguf(path), (err: unknown) => err instanceof CorruptModelError && /past the end/.test(err.message))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
