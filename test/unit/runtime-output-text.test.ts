import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OutputText } from '../../src/runtime/output-text.js'
import type { ReleasedToken } from '../../src/runtime/output-text.js'

/**
 * FakeByteTokenizer: ids 0–255 are single bytes (like llama.cpp byte-fallback tokens), ids from
 * 256 are multi-character pieces. Detokenization decodes the concatenated bytes, so an incomplete
 * UTF-8 sequence becomes U+FFFD exactly as in llama.cpp's detokenizer.
 */
const pieces = ['Hello', ' world', '\nUser:', 'lo\nU', 'ser:', '\n', 'U', 'x', 'END']
const encoder = new TextEncoder()
function bytesOf(id: number): Uint8Array {
  return id < 256 ? Uint8Array.of(id) : encoder.encode(pieces[id - 256]!)
}
function fakeDetokenize(tokens: readonly number[]): string {
  const parts = tokens.map(bytesOf)
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    all.set(p, at)
    at += p.length
  }
  return new TextDecoder().decode(all)
}
const piece = (s: string): number => 256 + pieces.indexOf(s)

function run(ids: number[], stop: string[]): { released: ReleasedToken[][]; stoppedAt: number; text: string } {
  const out = new OutputText((tokens) => fakeDetokenize(tokens), stop, [])
  const released: ReleasedToken[][] = []
  let stoppedAt = -1
  for (const [i, id] of ids.entries()) {
    const r = out.push(id)
    released.push([...r.released])
    if (r.stopped) {
      stoppedAt = i
      break
    }
  }
  if (stoppedAt < 0) released.push([...out.flush()])
  return { released, stoppedAt, text: out.text }
}

test('multi-byte characters split across tokens are released whole', () => {
  // "é" = C3 A9, "日" = E6 97 A5
  const { released, text } = run([0x61, 0xc3, 0xa9, 0xe6, 0x97, 0xa5], [])
  assert.equal(text, 'aé日')
  assert.deepEqual(released.flat().map((t) => t.text), ['a', '', 'é', '', '', '日'])
  assert.ok(!released.flat().some((t) => t.text.includes('\uFFFD')))
})

test('a stop string ends the output before it, even when it starts inside a token', () => {
  const r = run([piece('Hello'), piece(' world'), piece('\nUser:'), piece('x')], ['\nUser:'])
  assert.equal(r.stoppedAt, 2)
  assert.equal(r.text, 'Hello world')
  const r2 = run([piece('Hello'), piece('lo\nU'), piece('ser:'), piece('x')], ['\nUser:'])
  assert.equal(r2.stoppedAt, 2)
  assert.equal(r2.text, 'Hellolo')
  assert.deepEqual(r2.released.flat().map((t) => t.text), ['Hello', 'lo'])
})

test('text that may start a stop string is held back, then released when it does not match', () => {
  const r = run([piece('Hello'), piece('\n'), piece('U'), piece('x'), piece('END')], ['\nUser:'])
  assert.equal(r.stoppedAt, -1)
  assert.deepEqual(r.released.map((batch) => batch.map((t) => t.text).join('')), ['Hello', '', '', '\nUx', 'END', ''])
  assert.equal(r.text, 'Hello\nUxEND')
})

test('held text is flushed at the end of generation', () => {
  const r = run([piece('Hello'), piece('\n'), piece('U')], ['\nUser:'])
  assert.equal(r.text, 'Hello\nU')
  assert.deepEqual(r.released.at(-1)!.map((t) => t.text), ['\n', 'U'])
})

test('the earliest of several stop strings wins', () => {
  const r = run([piece('Hello'), piece(' world'), piece('END')], ['END', 'wor'])
  assert.equal(r.text, 'Hello ')
})
