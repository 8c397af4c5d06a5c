/**
 * When a proven forker stops counting. A fork proof binds once it is IN THE LOG: its `fork-proof`
 * entry is made final by a checkpoint C (the first final checkpoint whose size covers the entry).
 * The witness's cosignatures count for checkpoints up to and including C and for none after — by
 * epoch, or by size where a checkpoint has no epoch line. Every witness, follower and auditor reads
 * the same entries and checkpoints, so all draw the line at the same place.
 *
 * A line drawn where each node happened to learn of the proof is not enough: a witness that
 * learned early could not accept a decision the others had reached with the forker's precommit,
 * and stalled. Counting a forker until the log says otherwise is safe under the log's fault bound:
 * two quorums of k > 2n/3 share a correct witness whether or not a faulty one is among them.
 */
import { verifyForkProof, type ForkProof } from './fork-proof.js'

/** Where a convicted witness last counts: the checkpoint that made its fork-proof entry final. */
export interface Conviction {
  readonly epoch: number | undefined
  readonly size: number
}

/** Convicted witness → where it last counts. */
export type Convictions = ReadonlyMap<string, Conviction>

/** A checkpoint's place in the log's history. */
export interface CheckpointPlace {
  readonly epoch: number | undefined
  readonly size: number
}

/** What a fork-proof entry is judged against: this log's origin, network, witnesses and threshold. */
export interface ConvictionContext {
  readonly origin: string
  readonly network: string
  readonly witnesses: readonly string[]
  readonly threshold: number
}

/** Whether `witness`'s cosignature counts for the checkpoint at `cp`. */
export function countsAt(convictions: Convictions, witness: string, cp: CheckpointPlace): boolean {
  const c = convictions.get(witness)
  if (c === undefined) return true
  if (c.epoch !== undefined && cp.epoch !== undefined) return cp.epoch <= c.epoch
  return cp.size <= c.size
}

/**
 * Whether a conviction stops the witness counting in consensus from `height` on, for a witness
 * whose log holds `logSize` entries when that height starts: the consensus side of
 * {@link countsAt}, since the checkpoint decided at height h closes epoch h and is at least
 * `logSize` large. What must hold is: NOT banned ⇒ {@link countsAt} counts the witness for every
 * checkpoint the height can decide; otherwise witnesses could decide with the forker's precommit
 * a checkpoint that stores and auditors judge not final. Banning early is safe (every witness
 * bans at the same point, and a decision then rests on k others, which count everywhere).
 * By epoch when the conviction has one; else by size: once the log has reached the conviction's
 * size, a non-empty batch makes a larger checkpoint that does not count the witness, so it is
 * banned (an empty epoch's checkpoint of that size then simply goes without it). Witnesses write
 * epoch lines on every checkpoint; a conviction without one comes from a log built otherwise.
 */
export function bindsFromHeight(c: Conviction, height: number, logSize: number): boolean {
  return c.epoch !== undefined ? c.epoch < height : logSize >= c.size
}

/**
 * The witness a `fork-proof` entry's body convicts, or undefined when it proves nothing (such an
 * entry stays in the log as any entry does, and binds nobody).
 */
export function convictedBy(body: unknown, ctx: ConvictionContext): string | undefined {
  const proof = body as ForkProof
  if (!ctx.witnesses.includes(proof.witness)) return undefined
  const finality = { witnesses: ctx.witnesses, threshold: ctx.threshold }
  return verifyForkProof(proof, { origin: ctx.origin, network: ctx.network, finality }) ? proof.witness : undefined
}

/**
 * Convictions built while reading a log in order: `forkProofEntry` for each `fork-proof` entry as
 * it is passed, `finalCheckpoint` for each final checkpoint once judged (it still counts the
 * witnesses it convicts), in size order.
 */
export class ConvictionTracker {
  readonly #convictions: Map<string, Conviction>
  #unbound: Array<{ readonly index: number; readonly witness: string }> = []

  constructor(
    private readonly ctx: ConvictionContext,
    initial: Convictions = new Map(),
  ) {
    this.#convictions = new Map(initial)
  }

  /** The `fork-proof` entry at log index `index`. */
  forkProofEntry(index: number, body: unknown): void {
    const witness = convictedBy(body, this.ctx)
    if (witness !== undefined && !this.#convictions.has(witness)) this.#unbound.push({ index, witness })
  }

  /** A final checkpoint: it makes final (and binding) the fork-proof entries below its size. */
  finalCheckpoint(cp: CheckpointPlace): void {
    const later: Array<{ readonly index: number; readonly witness: string }> = []
    for (const u of this.#unbound) {
      if (u.index >= cp.size) later.push(u)
      else if (!this.#convictions.has(u.witness)) this.#convictions.set(u.witness, { epoch: cp.epoch, size: cp.size })
    }
    this.#unbound = later
  }

  get convictions(): Convictions {
    return this.#convictions
  }
}
