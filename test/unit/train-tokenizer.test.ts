// The demo tokenizer (byte-level BPE trained by src/training/bpe.ts) round-trips arbitrary UTF-8
// through our code and through node-llama-cpp loading the shipped GGUF, without warnings, and our
// training-time encoding gives llama.cpp's token ids on the corpus.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { getLlamaCollectingWarnings } from '../helpers/llama-with-warnings.js'
import { BpeTokenizer, openGguf, readTokenizerSpec } from '../../src/models/index.js'
import { BpeCodec, trainBpe, type BpeVocab } from '../../src/training/bpe.js'
import { hash32 } from '../../src/training/rng.js'

const MODEL = 'models/commons-demo.gguf'
const file = openGguf(MODEL)
const spec = readTokenizerSpec(file)
file.close()
const ours = new BpeCodec({
  tokens: new BpeTokenizer(spec).vocab.tokens.slice(),
  merges: spec.merges.map(([a, b]) => `${a} ${b}`),
  endOfTextId: new BpeTokenizer(spec).eosId,
} satisfies BpeVocab)
const reference = new BpeTokenizer(spec)

/** Seeded random strings over all planes (no lone surrogates), plus fixed hard cases. */
function samples(): string[] {
  const out = ['', ' ', 'Hello, world!', 'héllo wörld', '日本語のテキストと中文字符', '한국어 Ελληνικά русский', '🌍🌱✨👩‍👩‍👧 flags 🇫🇷', 'tabs\tand  spaces\n\n\r\nend ', "it's THE LORD'S 1611 12345", '\u0000\u0001\u007f\u00a0\u200b\ufeff', 'a'.repeat(300)]
  for (let s = 0; s < 40; s++) {
    let text = ''
    const len = 1 + (hash32(4, s, 0) % 40)
    for (let i = 1; i <= len; i++) {
      const r = hash32(4, s, i)
      const plane = r % 4
      let cp = plane === 0 ? 0x20 + (r >>> 8) % 0x5f : plane === 1 ? (r >>> 8) % 0xd800 : plane === 2 ? 0xe000 + ((r >>> 8) % 0x1ff0) : 0x10000 + ((r >>> 8) % 0x10000)
      if (cp >= 0xd800 && cp < 0xe000) cp = 0x41
      text += String.fromCodePoint(cp)
    }
    out.push(text)
  }
  return out
}

test('our BPE round-trips arbitrary UTF-8 and agrees with the models tokenizer on the corpus', () => {
  for (const s of samples()) assert.equal(ours.decode(ours.encode(s)), s)
  const lines = readFileSync('data/kjv.txt', 'utf8').split('\n').filter((_, i) => i % 97 === 0).join('\n')
  assert.deepEqual(ours.encode(lines), reference.encode(lines))
})

test('trainBpe is deterministic and every vocabulary has all 256 bytes', () => {
  const text = readFileSync('data/kjv.txt', 'utf8').slice(0, 20_000)
  const a = trainBpe(text, 300)
  assert.deepEqual(a, trainBpe(text, 300))
  assert.equal(a.tokens.length, 300)
  assert.equal(new Set(a.tokens).size, 300)
})

test('node-llama-cpp tokenizes like us and round-trips arbitrary UTF-8 without warnings', async () => {
  const { llama, warnings } = await getLlamaCollectingWarnings()
  try {
    const model = await llama.loadModel({ modelPath: MODEL, vocabOnly: true })
    for (const s of samples()) {
      const ids = model.tokenize(s)
      assert.deepEqual(Array.from(ids), reference.encode(s), JSON.stringify(s))
      assert.equal(model.detokenize(ids), s, JSON.stringify(s))
    }
    await model.dispose()
    assert.deepEqual(warnings, [])
  } finally {
    await llama.dispose()
  }
})
