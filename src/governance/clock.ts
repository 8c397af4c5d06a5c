import { executeProposal } from './execute.js'
import { tallyProposal } from './tally.js'
import { epochStartAtOrAfter } from './time.js'
import type { GovState, Proposal } from './types.js'

/**
 * Governance time. The only clock is the time of final checkpoints: `advanceTo(state, t)` runs
 * every scheduled transition due at or before `t`, each at its own scheduled time and in the order
 * of those times (ties: by proposal id). So the result does not depend on how often the clock was
 * advanced in between: advancing to t1 then t2 equals advancing to t2 when no entry lies between.
 */

/** When the next transition of `p` is due, or null when it has none (failed/executed). */
export function nextTransitionAt(p: Proposal): number | null {
  switch (p.status) {
    case 'pending':
      return p.votingStartsAt
    case 'voting':
      // A vote in a checkpoint at exactly votingEndsAt still counts; the tally runs just after.
      return p.votingEndsAt + 1
    case 'passed':
      return p.effectiveAt
    default:
      return null
  }
}

/** Runs the transitions of one proposal that is due at `at`. */
function transition(state: GovState, p: Proposal, at: number): void {
  switch (p.status) {
    case 'pending':
      p.status = 'voting'
      return
    case 'voting': {
      const tally = tallyProposal(state, p)
      p.tally = tally
      if (tally.passed) {
        p.status = 'passed'
        // Effects start at an epoch boundary after the timelock, and never before the tally.
        p.effectiveAt = epochStartAtOrAfter(state, Math.max(at, p.votingEndsAt + p.rules.timelockMs))
      } else {
        p.status = 'failed'
        closeProposal(state, p.id)
      }
      return
    }
    case 'passed':
      p.outcome = executeProposal(state, p, at)
      p.executedAt = at
      p.status = 'executed'
      closeProposal(state, p.id)
      return
    default:
      return
  }
}

function closeProposal(state: GovState, id: number): void {
  const i = state.open.indexOf(id)
  if (i >= 0) state.open.splice(i, 1)
}

/**
 * Earliest pending transition per state object: derived data, not part of the state (a copy or a
 * restored snapshot simply recomputes it), so most entries skip the scan of open proposals.
 */
const nextDueCache = new WeakMap<GovState, number>()

/** Earliest next transition of the open proposals (Infinity when none). */
function earliestDue(state: GovState): number {
  let min = Infinity
  for (const id of state.open) {
    const at = nextTransitionAt(state.proposals[id]!)
    if (at !== null && at < min) min = at
  }
  return min
}

/** Tells the clock that proposal `p` was just opened (keeps the cached next due time right). */
export function scheduleProposal(state: GovState, p: Proposal): void {
  const cached = nextDueCache.get(state)
  const at = nextTransitionAt(p)
  if (cached !== undefined && at !== null && at < cached) nextDueCache.set(state, at)
}

/** Moves governance time forward to `t` (never backward: an earlier `t` is treated as "now"). */
export function advanceTo(state: GovState, t: number): void {
  if (t > state.time) state.time = t
  const now = state.time
  const cached = nextDueCache.get(state)
  if (cached !== undefined && now < cached) return
  // Bounded: every step moves one proposal strictly forward in its lifecycle (at most 3 steps each).
  const maxSteps = 3 * state.open.length + 1
  for (let step = 0; step < maxSteps; step++) {
    let due: Proposal | null = null
    let dueAt = Infinity
    for (const id of state.open) {
      const p = state.proposals[id]!
      const at = nextTransitionAt(p)
      if (at !== null && at <= now && (at < dueAt || (at === dueAt && p.id < due!.id))) {
        due = p
        dueAt = at
      }
    }
    if (due === null) break
    transition(state, due, dueAt)
  }
  nextDueCache.set(state, earliestDue(state))
}
