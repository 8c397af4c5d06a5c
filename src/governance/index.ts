/**
 * Governance: a pure reducer over the final log (members, proposals, votes, parameters, models,
 * witnesses, constitution). See `reducer.ts` for the contract and `DESIGN.md` for its place.
 */
export { applyCheckpointTime, applyEntries, applyEntry } from './reducer.js'
export { cloneState, initialState, restoreState, snapshotState, stateRoot } from './state.js'
export { advanceTo } from './clock.js'
export { epochStartAtOrAfter, admissionPeriodOf } from './time.js'
export { tallyProposal } from './tally.js'
export { activeMemberIds, delegateCap, inElectorate, isActiveMember } from './membership.js'
export { needsSupermajority } from './proposals.js'
export { PARAMS, PARAM_NAMES, defaultParams, isParamName, paramViolation, type GovParams, type ParamName, type ParamDef } from './params.js'
export * from './bodies.js'
export * from './queries.js'
export * from './serving.js'
export { GovernedInferenceService, type GovStateSource } from './governed-service.js'
export { GovGenesisSchema, GovernanceGenesisSectionSchema, type GovGenesis, type GovernanceGenesisSection } from './genesis.js'
export { DEFAULT_CONSTITUTION } from './constitution.js'
export { validWitnessThreshold } from './witnesses.js'
export type { RejectionReason } from './rejections.js'
export type * from './types.js'
export * from './errors.js'
