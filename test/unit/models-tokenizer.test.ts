import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp'
import { GgufWriter, metadataValue, parseGguf } from '../../src/models/gguf/index.js'
import { writeLlamaGguf } from '../../src/models/llama-arch.js'
import { seededWeights } from '../../src/models/random-weights.js'
import {
  BYTE_TO_CHAR,
  BpeTokenizer,
  bytesToSymbol,
  learnMerges,
  preTokenize,
  readTokenizerSpec,
  writeTokenizerMetadata,
  symbolToBytes,
  type TokenizerSpec,
} from '../../src/models/tokenizer/index.js'
import { TINY_CORPUS } from '../../src/models/tiny.js'
import { seededRandom } from '../helpers/seeded-random.js'


// Pieces that stress the pre-tokenizer: contractions (any case), whitespace of every kind,
// \r\n runs, digits of other scripts, combining marks, CJK, emoji with ZWJ, unassigned code points.
const PIECES = [
  ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', ' \n', '\u00a0', '\u3000', '\u2028', '\u0085', '\u000b',
  "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'LL", "'d", "'x", "'",
  'the', 'The', 'hello', 'world', 'Commons', 'a', 'I',
  '0', '7', '42', '2026', '3.14', '٣', '१२', '½', 'Ⅻ',
  '.', ',', '!', '?', '...', '—', '-', '(', ')', '{', '}', '=>', '+=', '"', '#', '@', '%',
  'é', 'e\u0301', 'ñ', 'ß', 'Ω', 'мир', 'العربية', 'עברית', 'ไทย', 'हिन्दी',
  '共有地', '日本語', '한국어', '世界', 'ｶﾀｶﾅ',
  '🌍', '👍🏽', '👩‍👩‍👧', '🇫🇷', '✨', '\u{10ffff}', '\u{e0001}', '\u{50000}', '\u0378', '\ufffd',
  '<|endoftext|>', '<|startoftext|>', '\u0000', '\u001f', '\u007f',
]

function randomCodePoint(rand: () => number): string {
  const r = rand()
  let cp: number
  if (r < 0.4) cp = 0x20 + Math.floor(rand() * 0x5f)
  else if (r < 0.5) cp = Math.floor(rand() * 0x100)
  else if (r < 0.7) cp = Math.floor(rand() * 0x3000)
  else if (r < 0.85) cp = 0x3000 + Math.floor(rand() * 0xd000)
  else cp = 0x10000 + Math.floor(rand() * 0x100000)
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41 // surrogates are not code points of valid UTF-8
  return String.fromCodePoint(cp)
}

function randomText(rand: () => number): string {
  let s = ''
  const parts = 1 + Math.floor(rand() * 12)
  for (let i = 0; i < parts; i++) {
    s += rand() < 0.6 ? PIECES[Math.floor(rand() * PIECES.length)]! : randomCodePoint(rand)
  }
  return s
}

const rand = seededRandom(20260101)
// A vocabulary with merges learned partly from random multi-script text, so merges span
// multi-byte characters, whitespace runs and digits, not only ASCII words.
const corpus = TINY_CORPUS + Array.from({ length: 400 }, () => randomText(rand)).join(' ')
const spec: TokenizerSpec = learnMerges(corpus, 600)
const tokenizer = new BpeTokenizer(spec)
const dir = mkdtempSync(join(tmpdir(), 'models-tok-'))
let llama: Llama
let model: LlamaModel

before(async () => {
  const path = join(dir, 'tok.gguf')
  await writeLlamaGguf(path, {
    name: 'tokenizer-test',
    hparams: {
      contextLength: 256,
      embeddingLength: 32,
      blockCount: 1,
      feedForwardLength: 64,
      headCount: 2,
      headCountKv: 2,
      ropeFreqBase: 10000,
      rmsNormEpsilon: 1e-5,
      vocabSize: tokenizer.vocabSize,
    },
    tokenizer,
    weights: seededWeights(1),
  })
  llama = await getLlama({ gpu: false, build: 'never' })
  model = await llama.loadModel({ modelPath: path })
})

after(async () => {
  await model?.dispose()
  await llama?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

test('GPT-2 byte mapping is a bijection matching the published table', () => {
  assert.equal(new Set(BYTE_TO_CHAR).size, 256)
  assert.equal(BYTE_TO_CHAR[0x20], 'Ġ') // from openai/gpt-2 encoder.py bytes_to_unicode
  assert.equal(BYTE_TO_CHAR[0x0a], 'Ċ')
  assert.equal(BYTE_TO_CHAR[0x41], 'A')
  assert.equal(BYTE_TO_CHAR[0xad], 'Ń')
  assert.equal(bytesToSymbol(new TextEncoder().encode(' the')), 'Ġthe')
  assert.deepEqual(symbolToBytes('Ġthe'), new TextEncoder().encode(' the'))
})

test('pre-tokenizer follows the qwen2 regex on known cases', () => {
  assert.deepEqual(preTokenize("Hello world, it's 2026!"), ['Hello', ' world', ',', ' it', "'s", ' ', '2', '0', '2', '6', '!'])
  assert.deepEqual(preTokenize('a  b\n\n  c'), ['a', ' ', ' b', '\n\n', ' ', ' c'])
  assert.deepEqual(preTokenize("I'LL GO"), ['I', "'LL", ' GO'])
  assert.deepEqual(preTokenize('x = (y)\n'), ['x', ' =', ' (', 'y', ')\n'])
})

test('encode equals node-llama-cpp tokenize on 1500 random multi-script strings', () => {
  const r = seededRandom(7)
  let compared = 0
  for (let i = 0; i < 1500; i++) {
    const text = randomText(r)
    const expected = Array.from(model.tokenize(text))
    assert.deepEqual(tokenizer.encode(text), expected, `text ${JSON.stringify(text)}`)
    compared++
  }
  assert.equal(compared, 1500)
})

test('encode equals node-llama-cpp on the training text and its merges are used', () => {
  const expected = Array.from(model.tokenize(corpus))
  const ours = tokenizer.encode(corpus)
  assert.deepEqual(ours, expected)
  assert.ok(ours.length < new TextEncoder().encode(corpus).length * 0.6, 'merges compress the text')
})

test('arbitrary UTF-8 round-trips exactly through both tokenizers', () => {
  const r = seededRandom(99)
  for (let i = 0; i < 500; i++) {
    const text = randomText(r) + randomText(r)
    assert.equal(tokenizer.decode(tokenizer.encode(text)), text)
    assert.equal(model.detokenize(model.tokenize(text)), text, `llama.cpp round-trip of ${JSON.stringify(text)}`)
  }
})

test('special tokens: text is not parsed as specials; ids decode to nothing unless asked', () => {
  const ids = tokenizer.encode('<|endoftext|>')
  assert.ok(!ids.includes(tokenizer.eosId))
  assert.deepEqual(ids, Array.from(model.tokenize('<|endoftext|>')))
  assert.equal(tokenizer.decode([tokenizer.bosId, ...tokenizer.encode('hi'), tokenizer.eosId]), 'hi')
  assert.equal(model.detokenize([tokenizer.bosId, ...tokenizer.encode('hi'), tokenizer.eosId] as Token[]), 'hi')
  assert.equal(tokenizer.decode([tokenizer.eosId], { special: true }), '<|endoftext|>')
  assert.deepEqual(tokenizer.encode('hi', { addBos: true }), [tokenizer.bosId, ...tokenizer.encode('hi')])
  assert.equal(model.tokens.bos, tokenizer.bosId)
  assert.equal(model.tokens.eos, tokenizer.eosId)
})

test('spec validation rejects merges of unknown tokens and duplicate results', () => {
  assert.throws(() => new BpeTokenizer({ merges: [['ab', 'c']], specials: { bos: '<s>', eos: '</s>' } }), /does not exist/)
  assert.throws(() => new BpeTokenizer({ merges: [['a', 'b'], ['a', 'b']], specials: { bos: '<s>', eos: '</s>' } }), /already exists/)
  assert.throws(() => new BpeTokenizer({ merges: [], specials: { bos: 'a', eos: '</s>' } }), /collides/)
})

test('a spec without BOS (GPT-2 style) uses EOS as BOS, adds no BOS, and round-trips through GGUF', () => {
  const noBos: TokenizerSpec = { merges: spec.merges.slice(0, 50), specials: { eos: '<|endoftext|>' } }
  const tok = new BpeTokenizer(noBos)
  assert.equal(tok.vocabSize, 256 + 50 + 1)
  assert.equal(tok.eosId, 306)
  assert.equal(tok.bosId, tok.eosId)
  const w = new GgufWriter()
  writeTokenizerMetadata(w, tok)
  const f = parseGguf(w.toBytes())
  assert.equal(metadataValue(f, 'tokenizer.ggml.add_bos_token'), false)
  assert.equal(metadataValue(f, 'tokenizer.ggml.bos_token_id'), 306)
  assert.deepEqual(readTokenizerSpec(f), noBos)
  const withBos = new GgufWriter()
  writeTokenizerMetadata(withBos, tokenizer)
  assert.deepEqual(readTokenizerSpec(parseGguf(withBos.toBytes())), spec)
})
