import { z } from 'zod'

/**
 * Governed parameters and their HARD LIMITS. Members may change any value by a `set-parameter`
 * proposal, but never outside these bounds: the limits are code, not state, so no vote can lower
 * the quorum to nothing, raise the delegate cap to a capture, or make voting instantaneous.
 * Shares are integer basis points (1/10,000) so every node compares them with exact integer
 * arithmetic (no float rounding can make two nodes disagree on a tally).
 */

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

/** Definition of one governed parameter. */
export interface ParamDef {
  readonly min: number
  readonly max: number
  readonly default: number
  /** Changing it needs a 2/3 supermajority: it guards the voting rules themselves. */
  readonly supermajority: boolean
  readonly doc: string
}

/** The governed parameters: name → bounds, default, and why it exists. All values are integers. */
export const PARAMS = {
  vouchesRequired: {
    min: 1, max: 10, default: 2, supermajority: true,
    doc: 'vouches from active members needed to admit a new member',
  },
  maxAdmissionsPerVoucherPerPeriod: {
    min: 1, max: 10, default: 2, supermajority: true,
    doc: 'vouches one member may give per admission period (each vouch counts toward one admission)',
  },
  admissionPeriodMs: {
    min: MINUTE, max: 365 * DAY, default: 7 * DAY, supermajority: false,
    doc: 'length of the admission rate-limit period; new members may vouch from the next period on',
  },
  vouchPenaltyMs: {
    min: 0, max: 730 * DAY, default: 90 * DAY, supermajority: true,
    doc: 'how long vouchers of an expelled member lose the right to vouch',
  },
  maxDelegateShareBps: {
    min: 0, max: 500, default: 200, supermajority: true,
    doc: 'most delegated votes one delegate may carry, in basis points of the electorate (hard max 5%)',
  },
  discussionDelayMs: {
    min: 0, max: 30 * DAY, default: 1 * DAY, supermajority: false,
    doc: 'time between a proposal and the opening of its vote',
  },
  votingPeriodMs: {
    min: MINUTE, max: 60 * DAY, default: 7 * DAY, supermajority: false,
    doc: 'length of the vote',
  },
  timelockMs: {
    min: 0, max: 30 * DAY, default: 2 * DAY, supermajority: false,
    doc: 'delay between the end of a passed vote and its effect (then aligned to the next epoch)',
  },
  quorumBps: {
    min: 1000, max: 10_000, default: 3000, supermajority: true,
    doc: 'participation (yes+no+abstain, delegated included) needed, in basis points of the electorate',
  },
  majorityBps: {
    min: 5000, max: 9000, default: 5000, supermajority: true,
    doc: 'simple proposals pass when yes is MORE than this share of yes+no',
  },
  supermajorityBps: {
    min: 6666, max: 9500, default: 6666, supermajority: true,
    doc: 'constitution, witness and expulsion proposals (and changes to voting rules) pass when yes is AT LEAST this share of yes+no',
  },
  maxOpenProposalsPerMember: {
    min: 1, max: 20, default: 3, supermajority: false,
    doc: 'proposals one member may have open (pending, voting or passed) at once',
  },
} as const satisfies Record<string, ParamDef>

/** Name of a governed parameter. */
export type ParamName = keyof typeof PARAMS

/** Current values of all governed parameters. */
export type GovParams = { [K in ParamName]: number }

/** Every parameter name, sorted (iteration order must never depend on insertion order). */
export const PARAM_NAMES: readonly ParamName[] = (Object.keys(PARAMS) as ParamName[]).sort()

export function isParamName(name: string): name is ParamName {
  return Object.prototype.hasOwnProperty.call(PARAMS, name)
}

/** Why `value` is not acceptable for `name`, or null when it is (integer within the hard limits). */
export function paramViolation(name: string, value: number): string | null {
  if (!isParamName(name)) return `unknown parameter '${name}'`
  const def: ParamDef = PARAMS[name]
  if (!Number.isSafeInteger(value)) return `${name} must be an integer`
  if (value < def.min || value > def.max) return `${name} must be between ${def.min} and ${def.max} (hard limit)`
  return null
}

export function defaultParams(): GovParams {
  const out = {} as GovParams
  for (const name of PARAM_NAMES) out[name] = PARAMS[name].default
  return out
}

/** Partial parameters as a genesis may give them; each value is checked against its hard limits. */
export const GovParamsOverrideSchema = z
  .record(z.string(), z.number())
  .superRefine((value, ctx) => {
    for (const [name, v] of Object.entries(value)) {
      const why = paramViolation(name, v)
      if (why !== null) ctx.addIssue({ code: 'custom', message: why, path: [name] })
    }
  })
  .transform((value) => value as Partial<GovParams>)
