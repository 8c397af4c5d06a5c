import { z } from 'zod'
import { InvalidModelSpecError } from '../errors.js'
import { BYTE_TO_CHAR } from './byte-unicode.js'

/** llama.cpp `enum llama_token_type` (include/llama.h): NORMAL = 1, CONTROL = 3. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const

/**
 * The serialisable form of a Commons byte-level BPE tokenizer — what a trainer produces and what
 * `writeTokenizerMetadata` puts into a GGUF file.
 *
 * Vocabulary layout (token ids):
 *   0…255          one token per byte b, text `BYTE_TO_CHAR[b]` (GPT-2 byte-level form)
 *   256…256+M−1    merge i creates token 256+i with text `merges[i][0] + merges[i][1]`
 *   then           `specials.bos` (if any), `specials.eos`, then `specials.extra` (CONTROL tokens)
 *
 * Without a `bos`, the EOS token doubles as BOS (GPT-2 style) and prompts get no BOS prepended.
 *
 * Merges are pairs of token strings in GPT-2 byte-level form (HF `tokenizer.json` convention:
 * " the" is "Ġthe"), in priority order (earlier merges apply first); both halves must be tokens
 * that already exist (bytes or earlier merges) and every merge must create a new token.
 * Use `bytesToSymbol` to turn raw bytes into this form. Words are the pieces of `preTokenize`.
 */
export interface TokenizerSpec {
  readonly merges: ReadonlyArray<readonly [string, string]>
  readonly specials: {
    readonly bos?: string
    readonly eos: string
    readonly extra?: readonly string[]
  }
}

/** zod schema of `TokenizerSpec` (for specs read from JSON files). */
export const tokenizerSpecSchema = z.object({
  merges: z.array(z.tuple([z.string().min(1), z.string().min(1)])),
  specials: z.object({
    bos: z.string().min(1).optional(),
    eos: z.string().min(1),
    extra: z.array(z.string().min(1)).optional(),
  }),
})

/** Default special tokens. `<|endoftext|>` is one llama.cpp recognises as end-of-generation. */
export const DEFAULT_SPECIALS = { bos: '<|startoftext|>', eos: '<|endoftext|>' } as const

/** A spec expanded into the arrays llama.cpp reads. */
export interface Vocabulary {
  /** Token strings by id (byte-level form for normal tokens, literal text for specials). */
  readonly tokens: readonly string[]
  readonly tokenTypes: readonly number[]
  /** Merge strings "left right", as `tokenizer.ggml.merges` stores them. */
  readonly merges: readonly string[]
  /** Equals `eosId` when the spec has no BOS token. */
  readonly bosId: number
  readonly eosId: number
  /** Whether prompts start with BOS (`tokenizer.ggml.add_bos_token`): true iff the spec has a BOS. */
  readonly addBos: boolean
  /** Token string → id for normal tokens (not specials). */
  readonly idOf: ReadonlyMap<string, number>
  /** Merge rank by "left right". */
  readonly rankOf: ReadonlyMap<string, number>
}

/** Expands and validates a spec; throws `InvalidModelSpecError` naming the first bad entry. */
export function buildVocabulary(spec: TokenizerSpec): Vocabulary {
  const tokens: string[] = [...BYTE_TO_CHAR]
  const tokenTypes: number[] = tokens.map(() => TokenType.NORMAL)
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]))
  const rankOf = new Map<string, number>()
  const merges: string[] = []
  spec.merges.forEach(([left, right], i) => {
    if (!idOf.has(left) || !idOf.has(right)) {
      throw new InvalidModelSpecError(`merge ${i} ('${left}', '${right}') uses a token that does not exist yet`, 'merges')
    }
    const text = left + right
    if (idOf.has(text)) throw new InvalidModelSpecError(`merge ${i} creates '${text}', which already exists`, 'merges')
    const key = `${left} ${right}`
    idOf.set(text, tokens.length)
    rankOf.set(key, i)
    tokens.push(text)
    tokenTypes.push(TokenType.NORMAL)
    merges.push(key)
  })
  const hasBos = spec.specials.bos !== undefined
  const specials = [...(hasBos ? [spec.specials.bos!] : []), spec.specials.eos, ...(spec.specials.extra ?? [])]
  const seen = new Set<string>()
  for (const s of specials) {
    if (idOf.has(s) || seen.has(s)) throw new InvalidModelSpecError(`special token '${s}' collides with another token`, 'specials')
    seen.add(s)
  }
  const eosId = tokens.length + (hasBos ? 1 : 0)
  const bosId = hasBos ? tokens.length : eosId
  tokens.push(...specials)
  tokenTypes.push(...specials.map(() => TokenType.CONTROL))
  return { tokens, tokenTypes, merges, bosId, eosId, addBos: hasBos, idOf, rankOf }
}
