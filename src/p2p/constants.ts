/** Protocol ids and limits of the Commons swarm. Versioned: a breaking change gets a new id. */

/** Kademlia DHT of the Commons network, kept apart from the public IPFS DHT (`/ipfs/kad/1.0.0`). */
export const DHT_PROTOCOL = '/commons/kad/1.0.0'

/** Gossipsub topic of signed worker capability records (soft state, see DESIGN.md "Data that is the truth"). */
export const CAPABILITY_TOPIC = '/commons/capabilities/1'

/** Job protocol: request → token frames → signed receipt, length-prefixed JSON. */
export const JOB_PROTOCOL = '/commons/job/1'

/** Default connection limit: enough for a LAN swarm, low enough that a flood cannot exhaust fds. */
export const DEFAULT_MAX_CONNECTIONS = 200

/** Inbound connection attempts per second accepted from one host before it is refused. */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 10

/** Software version advertised in identify and in capability records. */
export const SOFTWARE_VERSION = 'commons/0.1.0'

/** Direct capability exchange: the dialer gets the worker's current signed capability record (one frame). */
export const CAPABILITY_PROTOCOL = '/commons/capability/1'
