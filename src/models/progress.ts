import cliProgress from 'cli-progress'

/** Reports progress of a long byte-oriented operation (model write, import, copy). */
export interface ProgressReporter {
  update(done: number, detail?: string): void
  stop(): void
}

/**
 * A progress bar on a TTY (cli-progress), JSON-lines logs on stderr otherwise (at most one line
 * per `intervalMs`, plus the final one), so CI logs stay readable and machine-parsable.
 */
export function createProgress(
  task: string,
  total: number,
  options: { stream?: NodeJS.WriteStream; intervalMs?: number; silent?: boolean } = {},
): ProgressReporter {
  const stream = options.stream ?? process.stderr
  if (options.silent) return { update: () => undefined, stop: () => undefined }
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${task} [{bar}] {percentage}% | {value}/{total} MB | {detail}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
    const mb = (n: number): number => Math.round(n / 1e5) / 10
    bar.start(mb(total), 0, { detail: '' })
    return {
      update: (done, detail = '') => bar.update(mb(done), { detail }),
      stop: () => bar.stop(),
    }
  }
  const interval = options.intervalMs ?? 2000
  let last = 0
  let lastDone = 0
  const log = (done: number, detail?: string): void => {
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), task, done, total, ...(detail ? { detail } : {}) })}\n`)
  }
  return {
    update(done, detail) {
      lastDone = done
      const now = Date.now()
      if (now - last >= interval) {
        last = now
        log(done, detail)
      }
    },
    stop: () => log(lastDone, 'done'),
  }
}
