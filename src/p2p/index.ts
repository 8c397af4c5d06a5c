/** Public interface of the p2p layer: the libp2p host and the one-identity helpers. */
export { createHost, listenAddrs, type CommonsHost, type CommonsServices, type HostOptions } from './host.js'
export { libp2pPrivateKeyOf, nodeIdOfPeer, peerIdOf } from './peer-id.js'
export { CAPABILITY_TOPIC, DHT_PROTOCOL, JOB_PROTOCOL, SOFTWARE_VERSION } from './constants.js'
export * from './errors.js'
