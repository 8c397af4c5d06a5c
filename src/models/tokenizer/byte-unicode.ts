/**
 * GPT-2's reversible byte ↔ unicode mapping (openai/gpt-2 `encoder.py` `bytes_to_unicode`, as
 * in llama.cpp's `unicode_byte_to_utf8`): printable Latin-1 bytes map to themselves, the other
 * 68 bytes to U+0100…U+0143 in byte order. Every BPE token string is a sequence of these chars.
 */
function buildByteToChar(): string[] {
  const direct: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b)
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b)
  for (let b = 0xae; b <= 0xff; b++) direct.push(b)
  const map: string[] = new Array(256)
  const isDirect = new Set(direct)
  let n = 0
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(isDirect.has(b) ? b : 256 + n++)
  }
  return map
}

/** `BYTE_TO_CHAR[b]` is the one-character string standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar()

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]))

/** Bytes → byte-level token string (e.g. " the" → "Ġthe"). */
export function bytesToSymbol(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += BYTE_TO_CHAR[b]
  return s
}

/** Byte-level token string → bytes; undefined if it contains a char outside the mapping. */
export function symbolToBytes(symbol: string): Uint8Array | undefined {
  const out: number[] = []
  for (const ch of symbol) {
    const b = CHAR_TO_BYTE.get(ch)
    if (b === undefined) return undefined
    out.push(b)
  }
  return Uint8Array.from(out)
}
