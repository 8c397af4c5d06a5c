// RFC 8785 (JCS) examples against src/identity canonicalJson: the §3.2.4 example, the §3.2.3
// sorting example and the Appendix B number serialization samples.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { canonicalBytes, canonicalJson, hexToBytes } from '../../src/identity/index.js'

interface Fixture {
  objects: Array<{ name: string; input: string; canonical: string }>
  numbers: Array<[string, string | null]>
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/rfc8785-jcs.json', import.meta.url), 'utf8')) as Fixture

for (const o of fx.objects) {
  test(`RFC 8785 ${o.name}`, () => {
    assert.equal(canonicalJson(JSON.parse(o.input)), o.canonical)
    assert.deepEqual(canonicalBytes(JSON.parse(o.input)), new TextEncoder().encode(o.canonical))
  })
}

test('RFC 8785 Appendix B number serialization samples', () => {
  for (const [bits, expected] of fx.numbers) {
    const value = new DataView(hexToBytes(bits).buffer).getFloat64(0, false)
    if (expected === null) {
      assert.throws(() => canonicalJson(value), `${bits} must be rejected`)
      assert.throws(() => canonicalJson({ x: value }), `${bits} inside an object must be rejected`)
    } else {
      assert.equal(canonicalJson(value), expected, bits)
      assert.equal(canonicalJson([value]), `[${expected}]`, bits)
    }
  }
})

test('canonical form is independent of property insertion order and whitespace', () => {
  const a = canonicalJson({ b: 1, a: [true, { d: 'x', c: null }] })
  const b = canonicalJson(JSON.parse('{ "a" : [ true , { "c" : null , "d" : "x" } ] , "b" : 1.0 }'))
  assert.equal(a, b)
  assert.equal(a, '{"a":[true,{"c":null,"d":"x"}],"b":1}')
})
