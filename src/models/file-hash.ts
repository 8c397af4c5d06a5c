import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** sha256 (lower-case hex) of a file, streamed (constant memory for multi-GB models). */
export async function sha256File(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal: options.signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
