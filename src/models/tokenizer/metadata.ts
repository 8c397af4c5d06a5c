import { CorruptModelError } from '../errors.js'
import type { GgufFile } from '../gguf/reader.js'
import type { GgufWriter } from '../gguf/writer.js'
import { BpeTokenizer } from './bpe.js'
import { TokenType, type TokenizerSpec } from './spec.js'

/** `tokenizer.ggml.model` / `tokenizer.ggml.pre` values our tokenizer declares. */
export const TOKENIZER_MODEL = 'gpt2'
export const TOKENIZER_PRE = 'qwen2'

/**
 * Writes the tokenizer keys llama.cpp reads (src/llama-vocab.cpp `llama_vocab::impl::load`):
 * model "gpt2" (byte-level BPE), pre "qwen2", tokens, token types (NORMAL / CONTROL), merges,
 * BOS/EOS ids, add_bos_token (true iff the spec has its own BOS) and add_eos_token = false.
 */
export function writeTokenizerMetadata(writer: GgufWriter, tokenizer: BpeTokenizer | TokenizerSpec): void {
  const tok = tokenizer instanceof BpeTokenizer ? tokenizer : new BpeTokenizer(tokenizer)
  const v = tok.vocab
  writer
    .setString('tokenizer.ggml.model', TOKENIZER_MODEL)
    .setString('tokenizer.ggml.pre', TOKENIZER_PRE)
    .setStringArray('tokenizer.ggml.tokens', v.tokens)
    .setI32Array('tokenizer.ggml.token_type', v.tokenTypes)
    .setStringArray('tokenizer.ggml.merges', v.merges)
    .setU32('tokenizer.ggml.bos_token_id', v.bosId)
    .setU32('tokenizer.ggml.eos_token_id', v.eosId)
    .setU32('tokenizer.ggml.padding_token_id', v.eosId)
    .setBool('tokenizer.ggml.add_bos_token', v.addBos)
    .setBool('tokenizer.ggml.add_eos_token', false)
}

/**
 * Rebuilds the tokenizer spec from a GGUF file written by `writeTokenizerMetadata`, and checks
 * that the stored vocabulary is exactly what the spec expands to.
 */
export function readTokenizerSpec(file: Pick<GgufFile, 'metadata'>): TokenizerSpec {
  const strings = (key: string): readonly string[] => {
    const v = file.metadata.get(key)
    if (v === undefined || v.type !== 'array' || v.itemType !== 'string') throw new CorruptModelError(`missing or mistyped '${key}'`)
    return v.value
  }
  const model = file.metadata.get('tokenizer.ggml.model')
  const pre = file.metadata.get('tokenizer.ggml.pre')
  if (model?.value !== TOKENIZER_MODEL || pre?.value !== TOKENIZER_PRE) {
    throw new CorruptModelError(`tokenizer is ${String(model?.value)}/${String(pre?.value)}, expected ${TOKENIZER_MODEL}/${TOKENIZER_PRE}`)
  }
  const tokens = strings('tokenizer.ggml.tokens')
  const merges = strings('tokenizer.ggml.merges').map((m): [string, string] => {
    const at = m.indexOf(' ', 1)
    if (at < 0) throw new CorruptModelError(`merge '${m}' has no separator`)
    return [m.slice(0, at), m.slice(at + 1)]
  })
  const types = file.metadata.get('tokenizer.ggml.token_type')
  if (types === undefined || types.type !== 'array' || types.itemType !== 'i32') throw new CorruptModelError("missing 'tokenizer.ggml.token_type'")
  const specials = tokens.filter((_, i) => types.value[i] === TokenType.CONTROL)
  const addBos = file.metadata.get('tokenizer.ggml.add_bos_token')?.value === true
  const [bos, eos, ...extra] = addBos ? specials : [undefined, ...specials]
  if (eos === undefined || (addBos && bos === undefined)) throw new CorruptModelError('tokenizer has no EOS control token')
  const spec: TokenizerSpec = {
    merges,
    specials: { ...(bos !== undefined ? { bos } : {}), eos, ...(extra.length > 0 ? { extra: extra as string[] } : {}) },
  }
  const rebuilt = new BpeTokenizer(spec).vocab.tokens
  if (rebuilt.length !== tokens.length || rebuilt.some((t, i) => t !== tokens[i])) {
    throw new CorruptModelError('stored vocabulary does not match its merges')
  }
  return spec
}
