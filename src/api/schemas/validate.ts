import type { z } from 'zod'
import { InvalidParameterError, UnknownParameterError, UnsupportedParameterError } from '../errors.js'

/** OpenAI-style parameter path: `messages[0].content`. */
export function paramPath(path: readonly PropertyKey[]): string | null {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out === '' ? null : out
}

/** Parses `value` with `schema`; the first issue becomes a 400 naming its `param`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix: readonly PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = [...prefix, ...(issue?.path ?? [])]
  const param = paramPath(path)
  const message = issue === undefined ? 'Invalid request' : `Invalid value for '${param ?? 'body'}': ${issue.message}`
  throw new InvalidParameterError(param, message)
}

/**
 * A parameter OpenAI defines but this node does not implement. `neutral` says which values mean
 * "not used" (absent, null, the default) and are therefore accepted.
 */
export interface UnsupportedRule {
  readonly key: string
  readonly neutral: (value: unknown) => boolean
  readonly why: string
}

const isNullish = (v: unknown): boolean => v === undefined || v === null

/** Neutral when absent, null, or equal to one of `values`. */
export function neutralWhen(...values: unknown[]): (value: unknown) => boolean {
  return (v) => isNullish(v) || values.includes(v)
}

/** Neutral when absent, null, or an empty array/object. */
export function neutralWhenEmpty(v: unknown): boolean {
  if (isNullish(v)) return true
  if (Array.isArray(v)) return v.length === 0
  return typeof v === 'object' && Object.keys(v as object).length === 0
}

/**
 * Refuses fields the endpoint does not define (`unknown_parameter`) and OpenAI options this node
 * does not implement (`unsupported_parameter`), so no request option is ever silently ignored.
 */
export function checkParameters(
  body: Record<string, unknown>,
  known: ReadonlySet<string>,
  unsupported: readonly UnsupportedRule[],
): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) throw new UnknownParameterError(key)
  }
  for (const rule of unsupported) {
    if (!rule.neutral(body[rule.key])) {
      throw new UnsupportedParameterError(rule.key, `'${rule.key}' is not supported by this node: ${rule.why}`)
    }
  }
}
