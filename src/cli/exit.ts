import { CommonsError } from '../errors.js'

/** Exit codes shared by every command (DESIGN.md): 0 ok, 1 failed, 2 bad usage. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Bad usage detected after commander parsed the flags (e.g. a number out of range). */
export class UsageError extends CommonsError {
  constructor(message: string) {
    super('usage', message, { status: 400 })
  }
}

/** A failure to report in one line and exit with `code`, without a stack trace. */
export class CommandFailedError extends CommonsError {
  readonly exitCode: number
  constructor(message: string, exitCode = EXIT_FAILURE) {
    super('command_failed', message, { status: 500 })
    this.exitCode = exitCode
  }
}

/** Parses an integer flag within bounds, or throws UsageError naming the flag. */
export function intFlag(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`${name} must be an integer between ${min} and ${max}, got '${value}'`)
    }
    return n
  }
}

/** Parses a number flag within bounds, or throws UsageError naming the flag. */
export function numberFlag(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${value}'`)
    }
    return n
  }
}
