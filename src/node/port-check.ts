import { createServer } from 'node:net'
import { ListenError, PortInUseError } from './errors.js'

/**
 * Binds and releases `host:port` once, so a busy port is reported before a model that may take
 * many seconds to load is loaded. The real `listen` later still reports a port taken meanwhile.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(host, port, err))
      else reject(new ListenError(host, port, err.message, err))
    })
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })
}
