/**
 * TEST-ONLY Byzantine witness behaviours for the multi-process suite, plugged into
 * `WitnessService`'s `testOnlyRewriteOutgoing` seam by test/helpers/witness-process.ts.
 * - `equivocatingRewrite`: every epoch set and vote goes out twice, the second a signed conflicting
 *   twin (all peers see both, so each correct witness can build a fork proof).
 * - `censoringRewrite`: the witness leaves `target` out of its epoch set and, when it proposes,
 *   picks evidence that keeps `target` below k (a batch that is valid by its own evidence).
 */
import { sha256Hex, type KeyPair, bytesToHex } from '../../src/identity/index.js'
import { buildBatch, type EpochBatch } from '../../src/ledger/consensus/batch.js'
import type { RewriteContext } from '../../src/ledger/consensus/witness.js'
import { signEpochSet } from '../../src/ledger/consensus/epoch-set.js'
import { signConsensusMessage, type ConsensusMessage } from '../../src/ledger/consensus/messages.js'
import type { WitnessGossip } from '../../src/ledger/consensus/witness-core.js'

type Rewrite = (message: WitnessGossip, context: RewriteContext) => WitnessGossip[]

function strip<M extends ConsensusMessage<EpochBatch>>(m: M): Omit<M, 'sig' | 'sender'> {
  const { sig: _sig, sender: _sender, ...rest } = m
  return rest
}

export function equivocatingRewrite(keys: KeyPair): Rewrite {
  const self = bytesToHex(keys.publicKey)
  return (message) => {
    if (message.kind === 'epoch-set' && message.set.witness === self) {
      const s = message.set
      const twin = signEpochSet(s.network, s.epoch, [...s.entries, sha256Hex(`byzantine-${s.epoch}`)], keys)
      return [message, { kind: 'epoch-set', set: twin }]
    }
    if (message.kind === 'consensus' && message.message.sender === self && message.message.type !== 'proposal') {
      const m = message.message
      const other = m.valueId === null ? sha256Hex(`byzantine-${m.height}-${m.round}`) : null
      return [message, { kind: 'consensus', message: signConsensusMessage<EpochBatch>({ ...strip(m), valueId: other }, keys) }]
    }
    return [message]
  }
}

export function censoringRewrite(keys: KeyPair, target: string, quorum: number, onCensor: (height: number) => void): Rewrite {
  const self = bytesToHex(keys.publicKey)
  const censorSet = (s: { network: string; epoch: number; entries: readonly string[] }) =>
    signEpochSet(s.network, s.epoch, s.entries.filter((h) => h !== target), keys)
  return (message, { treeAfter, setFor }) => {
    if (message.kind === 'epoch-set' && message.set.witness === self) return [{ kind: 'epoch-set', set: censorSet(message.set) }]
    if (message.kind !== 'consensus' || message.message.type !== 'proposal' || message.message.sender !== self) return [message]
    const m = message.message
    const named = m.value.evidence.map(setFor)
    if (named.some((s) => s === undefined)) return [message]
    const sets = named.map((s) => (s!.witness === self ? censorSet(s!) : s!))
    sets.sort((a, b) => Number(a.entries.includes(target)) - Number(b.entries.includes(target)))
    const built = buildBatch(sets.slice(0, quorum), quorum)
    if (built === null) return [message]
    if (m.value.entries.includes(target) || built.entries.length !== m.value.entries.length) onCensor(m.height)
    const value: EpochBatch = { epoch: m.value.epoch, ...built, tree: treeAfter(built.entries) }
    return [{ kind: 'consensus', message: signConsensusMessage<EpochBatch>({ ...strip(m), value, validRound: -1 }, keys) }]
  }
}
