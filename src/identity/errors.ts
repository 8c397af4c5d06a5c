import { CommonsError } from '../errors.js'

/** The key file is readable by group or others: a stolen key impersonates the node forever. */
export class InsecureKeyFileError extends CommonsError {
  constructor(path: string, mode: number) {
    super(
      'insecure_key_file',
      `key file ${path} has mode ${(mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600 ${path})`,
      { status: 500 },
    )
  }
}

/** The key file exists but is not a valid Commons key. */
export class CorruptKeyFileError extends CommonsError {
  constructor(path: string, reason: string) {
    super('corrupt_key_file', `key file ${path} is not a valid Commons key: ${reason}`, { status: 500 })
  }
}
