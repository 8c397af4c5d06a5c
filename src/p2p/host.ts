import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { mdns } from '@libp2p/mdns'
import type { Libp2p } from '@libp2p/interface'
import type { KeyPair } from '../identity/index.js'
import { BootstrapDialer, parseMultiaddrs } from './bootstrap.js'
import {
  DEFAULT_INBOUND_CONNECTION_THRESHOLD,
  DEFAULT_MAX_CONNECTIONS,
  DHT_PROTOCOL,
  SOFTWARE_VERSION,
} from './constants.js'
import { libp2pPrivateKeyOf } from './peer-id.js'

/** The services every Commons host runs; protocols (`/commons/job/1`, `/commons/log/1`) are added with `handle`. */
export interface CommonsServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  [key: string]: unknown
}

/** A started libp2p node with the Commons services. */
export type CommonsHost = Libp2p<CommonsServices>

export interface HostOptions {
  /** The node's Ed25519 key (`loadOrCreateKey`): the peer id is derived from it (one identity). */
  readonly keyPair: KeyPair
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/4001` and `/ip4/127.0.0.1/tcp/4002/ws`. */
  readonly listen: readonly string[]
  /** Peers to dial at start and to re-dial whenever disconnected. */
  readonly bootstrap?: readonly string[]
  /** LAN discovery by multicast DNS; default on (`--no-mdns` turns it off). */
  readonly mdns?: boolean
  /** Upper bound on open connections (default 200). */
  readonly maxConnections?: number
}

/**
 * Creates and starts the node's libp2p host: TCP + WebSockets, noise, yamux, identify, ping,
 * Kademlia DHT (`/commons/kad/1.0.0`, LAN addresses kept), gossipsub and, unless disabled, mDNS.
 * Bootstrap peers are dialed at start and kept connected. Stop it with `host.stop()`.
 *
 * Everything a peer sends over this host is untrusted: protocols validate every frame with zod
 * and verify signatures before acting on it.
 */
export async function createHost(options: HostOptions): Promise<CommonsHost> {
  const bootstrap = parseMultiaddrs(options.bootstrap ?? [])
  const node = await createLibp2p({
    privateKey: libp2pPrivateKeyOf(options.keyPair),
    nodeInfo: { userAgent: SOFTWARE_VERSION },
    addresses: { listen: [...options.listen] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: options.mdns === false ? [] : [mdns({ interval: 2_000 })],
    // A worker busy decoding can answer pings late; libp2p would then abort the connection and
    // every job on it. Dead peers are still noticed: TCP close/reset, and the job stall timer.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: DEFAULT_INBOUND_CONNECTION_THRESHOLD,
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        // Swarms on one LAN or one machine are a supported deployment: keep private addresses.
        peerInfoMapper: passthroughMapper,
      }),
      pubsub: gossipsub({
        // A worker alone on the network still publishes its capabilities (nobody listens yet).
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
      }),
    },
  })
  const dialer = new BootstrapDialer(node, bootstrap)
  node.addEventListener('stop', () => dialer.stop(), { once: true })
  dialer.start()
  return node as unknown as CommonsHost
}

/** Listen addresses for one port pair on `host`: TCP on `port`, WebSockets on `port + 1` (0 → random). */
export function listenAddrs(host: string, port: number): string[] {
  const ip = host.includes(':') ? 'ip6' : 'ip4'
  return [`/${ip}/${host}/tcp/${port}`, `/${ip}/${host}/tcp/${port === 0 ? 0 : port + 1}/ws`]
}
