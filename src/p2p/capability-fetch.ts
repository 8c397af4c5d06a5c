import type { PeerId, Stream } from '@libp2p/interface'
import { CAPABILITY_PROTOCOL } from './constants.js'
import { MalformedFrameError } from './errors.js'
import { FrameDecoder, prefixLength } from './frames.js'
import type { CommonsHost } from './host.js'

/**
 * `/commons/capability/1`: the dialer asks a worker for its signed capability record directly,
 * for a gateway that found the worker through the DHT (not on the gossip topic, or before the
 * first gossip round). The worker writes one frame — unsigned-varint length ‖ the same JSON it
 * gossips — and closes. The record is as untrusted as a gossiped one: the caller passes the bytes
 * to `CapabilityGossip.acceptDirect`, which validates, verifies and checks that the record is the
 * dialed peer's own (noise authenticated the peer).
 */

/** Largest record frame accepted (same bound as a gossiped record). */
export const MAX_CAPABILITY_BYTES = 16 * 1024

/** Registers the worker side; `signedRecord` returns the record's JSON bytes, or `undefined` when this node is no worker. */
export async function serveCapability(host: CommonsHost, signedRecord: () => Uint8Array | undefined): Promise<void> {
  await host.handle(CAPABILITY_PROTOCOL, async (stream: Stream) => {
    const bytes = signedRecord()
    if (bytes === undefined) {
      stream.abort(new Error('not a worker'))
      return
    }
    try {
      stream.send(prefixLength(bytes))
      await stream.close({ signal: AbortSignal.timeout(2_000) })
    } catch {
      stream.abort(new Error('could not send the capability record'))
    }
  }, { maxInboundStreams: 32 })
}

/** Removes the worker side (node stopping). */
export async function unserveCapability(host: CommonsHost): Promise<void> {
  await host.unhandle(CAPABILITY_PROTOCOL).catch(() => {})
}

/**
 * Dials `peer` (addresses from the peer store) and reads its record frame. Throws
 * `MalformedFrameError` for a bad or oversized frame, the dial's error otherwise.
 */
export async function fetchCapability(host: CommonsHost, peer: PeerId, signal: AbortSignal): Promise<Uint8Array> {
  const stream = await host.dialProtocol(peer, CAPABILITY_PROTOCOL, { signal })
  const onAbort = (): void => stream.abort(new Error('capability fetch aborted'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const decoder = new FrameDecoder(MAX_CAPABILITY_BYTES)
    for await (const chunk of stream) {
      decoder.push(chunk)
      const body = decoder.next()
      if (body !== undefined) {
        await stream.close({ signal: AbortSignal.timeout(1_000) }).catch(() => stream.abort(new Error('close timed out')))
        return body
      }
    }
    throw new MalformedFrameError('the worker closed the stream without a capability record')
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
