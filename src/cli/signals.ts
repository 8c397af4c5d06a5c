/**
 * Resolves on the first SIGINT or SIGTERM (or when `also` fires), then stops listening, so a
 * second Ctrl-C during the clean shutdown that follows gets Node's default: exit at once.
 */
export function untilSignal(also?: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let settled = false
    const done = (): void => {
      if (settled) return
      settled = true
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
    also?.(done)
  })
}
