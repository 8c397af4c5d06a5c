/**
 * Long-lived parts of a node (engines, HTTP server, later the libp2p host, the log store, the
 * witness) implement `Startable`; the node starts them in order and stops them in reverse
 * (js-libp2p's lifecycle), so tests and `commons swarm` shut down cleanly.
 */
export interface Startable {
  start(): Promise<void>
  stop(): Promise<void>
}

/** A named `Startable`, so logs and errors say which part failed. */
export interface NodeComponent extends Startable {
  readonly name: string
}

/**
 * Starts components in order. If one fails, those already started are stopped (in reverse) and
 * the original error is rethrown. `stop()` stops everything started, in reverse, once; a failing
 * `stop` does not prevent the others from stopping (the first error is rethrown at the end).
 */
export class Lifecycle implements Startable {
  readonly #components: readonly NodeComponent[]
  readonly #started: NodeComponent[] = []
  readonly #onEvent: (event: string, component: string) => void

  constructor(components: readonly NodeComponent[], onEvent: (event: string, component: string) => void = () => {}) {
    this.#components = components
    this.#onEvent = onEvent
  }

  async start(): Promise<void> {
    for (const component of this.#components) {
      try {
        await component.start()
      } catch (err) {
        await this.stop().catch(() => undefined)
        throw err
      }
      this.#started.push(component)
      this.#onEvent('started', component.name)
    }
  }

  async stop(): Promise<void> {
    let first: unknown
    while (this.#started.length > 0) {
      const component = this.#started.pop()!
      try {
        await component.stop()
        this.#onEvent('stopped', component.name)
      } catch (err) {
        first ??= err
      }
    }
    if (first !== undefined) throw first
  }
}
