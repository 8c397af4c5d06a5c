/**
 * The Tendermint state machine (src/ledger/consensus/tendermint.ts), driven event by event from
 * the point of view of one witness, with hand-written messages from the other three: the rules of
 * Algorithm 1 (Buchman, Kwon, Milosevic 2018) one at a time, including the locking scenario that
 * the paper's agreement proof rests on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, keyPairFromSecret, sha256, sha256Hex, type KeyPair } from '../../src/identity/index.js'
import { signConsensusMessage, type ConsensusMessage, type VoteMessage } from '../../src/ledger/consensus/messages.js'
import {
  checkWitnessSet,
  initialState,
  proposerOf,
  stepTendermint,
  type TendermintAction,
  type TendermintConfig,
  type TendermintEvent,
  type TendermintState,
} from '../../src/ledger/consensus/tendermint.js'
import { verifyForkProof, voteFork } from '../../src/ledger/consensus/fork-proof.js'
import { InvalidWitnessSetError } from '../../src/ledger/consensus/errors.js'

const NETWORK = sha256Hex('tendermint-unit')
const keys: KeyPair[] = [0, 1, 2, 3].map((i) => keyPairFromSecret(sha256(`tm-unit-${i}`)))
const W = keys.map((k) => bytesToHex(k.publicKey))
const id = (v: string): string => sha256Hex(`value:${v}`)

function configFor(self: number, overrides: Partial<TendermintConfig<string>> = {}): TendermintConfig<string> {
  return {
    network: NETWORK,
    witnesses: W,
    quorum: 3,
    keys: keys[self]!,
    timeouts: { propose: 300, prevote: 100, precommit: 100, delta: 50 },
    valueId: id,
    isValid: (v) => v !== 'invalid',
    ...overrides,
  }
}

/** One witness under test: feeds events, keeps every action. */
class Subject {
  state: TendermintState<string>
  readonly actions: TendermintAction<string>[] = []
  constructor(readonly config: TendermintConfig<string>, height = 0) {
    this.state = initialState<string>(height)
  }
  on(event: TendermintEvent<string>): TendermintAction<string>[] {
    const { state, actions } = stepTendermint(this.config, this.state, event)
    this.state = state
    this.actions.push(...actions)
    return [...actions]
  }
  receive(message: ConsensusMessage<string>): TendermintAction<string>[] {
    return this.on({ kind: 'message', message })
  }
  sent(type: string, round: number): ConsensusMessage<string>[] {
    return this.actions.flatMap((a) => (a.kind === 'broadcast' && a.message.type === type && a.message.round === round ? [a.message] : []))
  }
}

function proposal(from: number, height: number, round: number, value: string, validRound = -1): ConsensusMessage<string> {
  return signConsensusMessage<string>({ type: 'proposal', network: NETWORK, height, round, value, validRound }, keys[from]!)
}

function vote(type: 'prevote' | 'precommit', from: number, height: number, round: number, value: string | null): VoteMessage {
  return signConsensusMessage<string>({ type, network: NETWORK, height, round, valueId: value === null ? null : id(value) }, keys[from]!) as VoteMessage
}

test('checkWitnessSet enforces 2n/3 < k ≤ n', () => {
  checkWitnessSet(W, 3)
  assert.throws(() => checkWitnessSet(W, 2), InvalidWitnessSetError)
  assert.throws(() => checkWitnessSet(W, 5), InvalidWitnessSetError)
  assert.throws(() => checkWitnessSet(W.slice(0, 3), 2), InvalidWitnessSetError)
  assert.throws(() => checkWitnessSet([W[0]!, W[0]!, W[1]!, W[2]!], 3), InvalidWitnessSetError)
})

test('StartRound: the proposer proposes its value; the others schedule timeoutPropose(r) = base + r·delta', () => {
  assert.equal(proposerOf(W, 0, 0), W[0])
  assert.equal(proposerOf(W, 1, 2), W[3])
  const proposer = new Subject(configFor(0))
  proposer.on({ kind: 'value', height: 0, value: 'v' })
  const started = proposer.on({ kind: 'start-height', height: 0 })
  const sent = started.find((a) => a.kind === 'broadcast')
  assert.ok(sent !== undefined && sent.kind === 'broadcast' && sent.message.type === 'proposal')
  assert.equal(sent.message.value, 'v')
  assert.equal(sent.message.validRound, -1)
  // The proposer receives its own proposal through its log and prevotes for it at once.
  assert.equal(proposer.sent('prevote', 0)[0]?.type === 'prevote' && (proposer.sent('prevote', 0)[0] as VoteMessage).valueId, id('v'))

  const other = new Subject(configFor(2))
  const actions = other.on({ kind: 'start-height', height: 0 })
  assert.deepEqual(actions, [{ kind: 'schedule-timeout', timeout: 'propose', height: 0, round: 0, ms: 300 }])
  assert.equal(other.state.step, 'propose')
  // Timeout in round 2 is longer.
  other.on({ kind: 'timeout', timeout: 'propose', height: 0, round: 0 })
  assert.equal((other.sent('prevote', 0)[0] as VoteMessage).valueId, null, 'timeoutPropose → prevote nil (line 59)')
  assert.equal(other.state.step, 'prevote')
})

test('a proposer without a value yet waits, then proposes as soon as the environment offers one', () => {
  const proposer = new Subject(configFor(0))
  const started = proposer.on({ kind: 'start-height', height: 0 })
  assert.equal(proposer.state.awaitingValue, true)
  assert.deepEqual(started, [], 'it waits for the value (no timeoutPropose for the proposer, as in the paper)')
  proposer.on({ kind: 'value', height: 0, value: 'late' })
  assert.equal(proposer.sent('proposal', 0).length, 1)
})

test('messages with a bad signature, from a non-witness, of another network, or a proposal from a non-proposer are ignored', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  const before = JSON.stringify(s.state)
  const good = vote('prevote', 1, 0, 0, 'v')
  assert.deepEqual(s.receive({ ...good, valueId: id('other') }), [], 'tampered content')
  const outsider = keyPairFromSecret(sha256('outsider'))
  assert.deepEqual(s.receive(signConsensusMessage<string>({ type: 'prevote', network: NETWORK, height: 0, round: 0, valueId: id('v') }, outsider)), [])
  assert.deepEqual(s.receive(signConsensusMessage<string>({ type: 'prevote', network: sha256Hex('elsewhere'), height: 0, round: 0, valueId: id('v') }, keys[1]!)), [])
  assert.deepEqual(s.receive(proposal(1, 0, 0, 'v')), [], 'witness 1 is not proposer(0, 0)')
  assert.equal(JSON.stringify(s.state), before)
})

test('stepTendermint is pure: it never mutates its input and the same input gives the same output', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  const frozen = JSON.stringify(s.state)
  const a = stepTendermint(s.config, s.state, { kind: 'message', message: proposal(0, 0, 0, 'v') })
  const b = stepTendermint(s.config, s.state, { kind: 'message', message: proposal(0, 0, 0, 'v') })
  assert.equal(JSON.stringify(s.state), frozen)
  assert.deepEqual(a, b)
})

test('proposal + 2f+1 prevotes → lock and precommit; proposal + 2f+1 precommits → decide with the precommits as certificate', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  assert.equal((s.sent('prevote', 0)[0] as VoteMessage).valueId, id('v'), 'line 24: prevote id(v)')
  s.receive(vote('prevote', 0, 0, 0, 'v'))
  assert.equal(s.state.step, 'prevote')
  s.receive(vote('prevote', 1, 0, 0, 'v'))
  assert.equal(s.state.step, 'precommit', 'line 36: 2f+1 prevotes for v')
  assert.equal(s.state.lockedValue, 'v')
  assert.equal(s.state.lockedRound, 0)
  assert.equal((s.sent('precommit', 0)[0] as VoteMessage).valueId, id('v'))
  s.receive(vote('precommit', 0, 0, 0, 'v'))
  const actions = s.receive(vote('precommit', 3, 0, 0, 'v'))
  const decision = actions.find((a) => a.kind === 'decide')
  assert.ok(decision !== undefined && decision.kind === 'decide')
  assert.equal(decision.value, 'v')
  assert.deepEqual(decision.precommits.map((p) => p.sender).sort(), [W[0], W[2], W[3]].sort())
  assert.equal(s.state.height, 1)
  assert.equal(s.state.step, 'new-height')
  assert.equal(s.state.lockedRound, -1, 'line 54: locks reset for the new height')
})

test('locking (the heart of agreement): a witness locked on v prevotes nil for a fresh proposal of another value', () => {
  // Round 0: witness 2 sees a polka for v and precommits it, but v is not decided (others precommit nil).
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  s.receive(vote('prevote', 0, 0, 0, 'v'))
  s.receive(vote('prevote', 1, 0, 0, 'v'))
  assert.equal(s.state.lockedValue, 'v')
  s.receive(vote('precommit', 1, 0, 0, null))
  const scheduled = s.receive(vote('precommit', 3, 0, 0, null))
  assert.deepEqual(scheduled, [{ kind: 'schedule-timeout', timeout: 'precommit', height: 0, round: 0, ms: 100 }], 'line 47')
  s.on({ kind: 'timeout', timeout: 'precommit', height: 0, round: 0 })
  assert.equal(s.state.round, 1, 'line 65: timeoutPrecommit → next round')
  // Round 1: proposer 1 proposes a different, fresh value w. Someone may have decided v in round 0
  // (a Byzantine precommit reaching only one witness), so voting for w could fork the log.
  s.receive(proposal(1, 0, 1, 'w'))
  assert.equal((s.sent('prevote', 1)[0] as VoteMessage).valueId, null, 'line 26: locked on v → prevote nil for w')
})

test('a re-proposal of the locked value with its proof-of-lock round is prevoted (line 28)', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  s.receive(vote('prevote', 0, 0, 0, 'v'))
  s.receive(vote('prevote', 1, 0, 0, 'v'))
  s.receive(vote('precommit', 1, 0, 0, null))
  s.receive(vote('precommit', 3, 0, 0, null))
  s.on({ kind: 'timeout', timeout: 'precommit', height: 0, round: 0 })
  s.receive(proposal(1, 0, 1, 'v', 0))
  assert.equal((s.sent('prevote', 1)[0] as VoteMessage).valueId, id('v'))
})

test('a witness that saw 2f+1 prevotes for w in a later round than its lock follows the re-proposal of w (unlock, line 30)', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  // Locked on v in round 0.
  s.receive(proposal(0, 0, 0, 'v'))
  s.receive(vote('prevote', 0, 0, 0, 'v'))
  s.receive(vote('prevote', 1, 0, 0, 'v'))
  s.receive(vote('precommit', 1, 0, 0, null))
  s.receive(vote('precommit', 3, 0, 0, null))
  s.on({ kind: 'timeout', timeout: 'precommit', height: 0, round: 0 })
  // Round 1: w gets a polka among the others while we are partitioned away (we prevoted nil).
  s.receive(proposal(1, 0, 1, 'w'))
  for (const from of [0, 1, 3]) s.receive(vote('prevote', from, 0, 1, 'w'))
  for (const from of [0, 1]) s.receive(vote('precommit', from, 0, 1, null))
  s.on({ kind: 'timeout', timeout: 'precommit', height: 0, round: 1 })
  // Round 2: proposer 2 is us; we saw the polka for w in round 1 → validValue = w, and we propose it with vr = 1.
  const reproposal = s.sent('proposal', 2)[0]
  assert.ok(reproposal !== undefined && reproposal.type === 'proposal')
  assert.equal(reproposal.value, 'w')
  assert.equal(reproposal.validRound, 1)
  assert.equal((s.sent('prevote', 2)[0] as VoteMessage).valueId, id('w'), 'lockedRound 0 ≤ vr 1: prevote w')
})

test('2f+1 nil prevotes → precommit nil; invalid values are prevoted nil', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'invalid'))
  assert.equal((s.sent('prevote', 0)[0] as VoteMessage).valueId, null)
  s.receive(vote('prevote', 0, 0, 0, null))
  s.receive(vote('prevote', 1, 0, 0, null))
  assert.equal((s.sent('precommit', 0)[0] as VoteMessage).valueId, null, 'line 44')
})

test('isAcceptable only filters fresh proposals: a censoring fresh proposal is prevoted nil', () => {
  const s = new Subject(configFor(2, { isAcceptable: (v) => v !== 'censoring' }))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'censoring'))
  assert.equal((s.sent('prevote', 0)[0] as VoteMessage).valueId, null)
})

test('isReady: a fresh proposal waits, without a prevote, for its data (a data event) or the propose timeout; the proposer never waits on its own', () => {
  let ready = false
  const s = new Subject(configFor(2, { isReady: () => ready }))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  assert.equal(s.sent('prevote', 0).length, 0, 'data missing: neither the value nor nil')
  s.on({ kind: 'data' })
  assert.equal(s.sent('prevote', 0).length, 0, 'still missing')
  ready = true
  s.on({ kind: 'data' })
  assert.equal((s.sent('prevote', 0)[0] as VoteMessage).valueId, id('v'))

  const late = new Subject(configFor(2, { isReady: () => false }))
  late.on({ kind: 'start-height', height: 0 })
  late.receive(proposal(0, 0, 0, 'v'))
  late.on({ kind: 'timeout', timeout: 'propose', height: 0, round: 0 })
  assert.equal((late.sent('prevote', 0)[0] as VoteMessage).valueId, null, 'the propose timeout ends the wait')

  // W[0] proposes round 0: with no timeoutPropose of its own, a wait could never end.
  const proposer = new Subject(configFor(0, { isReady: () => false, isAcceptable: () => false }))
  proposer.on({ kind: 'value', height: 0, value: 'v' })
  proposer.on({ kind: 'start-height', height: 0 })
  assert.equal(proposer.sent('proposal', 0).length, 1)
  assert.equal((proposer.sent('prevote', 0)[0] as VoteMessage).valueId, null, 'judged at once, and without its data it cannot vouch for it')
})

test('f+1 messages of a higher round make a witness jump to it (line 55)', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(vote('prevote', 0, 0, 5, null))
  assert.equal(s.state.round, 0, 'one witness may be faulty')
  const actions = s.receive(vote('precommit', 3, 0, 5, null))
  assert.equal(s.state.round, 5)
  assert.ok(actions.some((a) => a.kind === 'schedule-timeout' && a.timeout === 'propose' && a.round === 5 && a.ms === 300 + 5 * 50))
})

test('equivocation is reported, proven, and the equivocator is ignored afterwards', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  const first = vote('precommit', 1, 0, 0, 'v')
  const second = vote('precommit', 1, 0, 0, 'w')
  s.receive(first)
  const actions = s.receive(second)
  const report = actions.find((a) => a.kind === 'equivocation')
  assert.ok(report !== undefined && report.kind === 'equivocation')
  const proof = voteFork(report.first, report.second)
  assert.equal(verifyForkProof(proof, NETWORK, W, 3), W[1])
  s.on({ kind: 'faulty', witness: W[1]! })
  assert.equal(s.state.rounds['0']!.precommits[W[1]!], undefined, 'its votes no longer count')
  assert.deepEqual(s.receive(vote('prevote', 1, 0, 0, 'v')), [])
  assert.equal(s.state.rounds['0']!.prevotes[W[1]!], undefined)
})

test('an equivocator showed this witness nil and the others v: its other precommit and proposal still complete the decision certificate', () => {
  // Witness 1 (the proposer of round 1) sent this witness a proposal of 'w' and a nil precommit;
  // witnesses 0 and 3 got 'v' and its precommit for 'v', decided, and moved on. Their re-gossiped
  // certificate is all this witness will ever get for height 0.
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.on({ kind: 'timeout', timeout: 'propose', height: 0, round: 0 })
  s.receive(vote('prevote', 0, 0, 0, null))
  s.receive(vote('prevote', 3, 0, 0, null))
  s.receive(vote('precommit', 0, 0, 0, null))
  s.receive(vote('precommit', 3, 0, 0, null))
  s.on({ kind: 'timeout', timeout: 'precommit', height: 0, round: 0 })
  assert.equal(s.state.round, 1)
  assert.equal(proposerOf(W, 0, 1), W[1])
  s.receive(proposal(1, 0, 1, 'w'))
  s.receive(vote('precommit', 1, 0, 1, null))
  const certificate = [proposal(1, 0, 1, 'v'), vote('precommit', 0, 0, 1, 'v'), vote('precommit', 1, 0, 1, 'v'), vote('precommit', 3, 0, 1, 'v')]
  const actions = certificate.flatMap((m) => s.receive(m))
  assert.ok(actions.some((a) => a.kind === 'equivocation'), 'the equivocation is still reported')
  const decision = actions.find((a) => a.kind === 'decide')
  assert.ok(decision !== undefined && decision.kind === 'decide', 'decided from the certificate')
  assert.equal(decision.value, 'v')
  assert.deepEqual(decision.precommits.map((p) => p.sender).sort(), [W[0], W[1], W[3]].sort())
  assert.equal(s.state.height, 1)
})

test('an equivocator cannot spend its second vote slot on junk: a vote for a value others back takes the slot over', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  s.receive(proposal(0, 0, 0, 'v'))
  s.receive(vote('precommit', 1, 0, 0, null))
  s.receive(vote('precommit', 1, 0, 0, 'junk'))
  assert.equal(s.state.rounds['0']!.otherPrecommits?.[W[1]!]?.valueId, id('junk'))
  s.receive(vote('precommit', 0, 0, 0, 'v'))
  s.receive(vote('precommit', 1, 0, 0, 'v'))
  assert.equal(s.state.rounds['0']!.otherPrecommits?.[W[1]!]?.valueId, id('v'), 'v has a backer, junk none')
  const actions = s.receive(vote('precommit', 3, 0, 0, 'v'))
  assert.ok(actions.some((a) => a.kind === 'decide'))
})

test('messages of a height wait for its start, so a witness convicted by the decided heights never counts there', () => {
  const decideHeight0 = (): Subject => {
    const s = new Subject(configFor(2))
    s.on({ kind: 'start-height', height: 0 })
    s.receive(proposal(0, 0, 0, 'v'))
    for (const from of [0, 1]) s.receive(vote('prevote', from, 0, 0, 'v'))
    for (const from of [0, 1]) s.receive(vote('precommit', from, 0, 0, 'v'))
    assert.equal(s.state.height, 1)
    // A certificate for height 1 arrives before this witness starts it (it lags a little).
    const proposer = W.indexOf(proposerOf(W, 1, 0))
    const early = [proposal(proposer, 1, 0, 'w'), ...[0, 1, 3].map((from) => vote('precommit', from, 1, 0, 'w'))]
    const actions = early.flatMap((m) => s.receive(m))
    assert.equal(actions.some((a) => a.kind === 'decide'), false, 'held until height 1 starts')
    return s
  }
  const plain = decideHeight0()
  assert.ok(plain.on({ kind: 'start-height', height: 1 }).some((a) => a.kind === 'decide'), 'decided at its start')
  // Height 0 convicted witness 3 (not height 1's proposer): its precommit no longer counts at
  // height 1, so 2 of the 3 is no quorum.
  const banned = decideHeight0()
  assert.notEqual(proposerOf(W, 1, 0), W[3])
  banned.on({ kind: 'faulty', witness: W[3]! })
  assert.equal(banned.on({ kind: 'start-height', height: 1 }).some((a) => a.kind === 'decide'), false)
  assert.equal(banned.state.height, 1)
})

test('messages for the next height are kept and replayed once the height is decided', () => {
  const s = new Subject(configFor(2))
  s.on({ kind: 'start-height', height: 0 })
  // Height 1, round 0 is proposed by witness 1; it arrives early.
  s.receive(proposal(1, 1, 0, 'next'))
  s.receive(proposal(0, 0, 0, 'v'))
  for (const from of [0, 1, 3]) s.receive(vote('precommit', from, 0, 0, 'v'))
  assert.equal(s.state.height, 1)
  s.on({ kind: 'start-height', height: 1 })
  assert.equal((s.sent('prevote', 0).find((m) => m.height === 1) as VoteMessage).valueId, id('next'))
})
