import type { GovState } from './types.js'

/** Epoch and admission-period arithmetic over final-checkpoint times. */

/** Start of the first epoch at or after `t`. Epochs start at genesisTime + k × epochMs. */
export function epochStartAtOrAfter(state: Pick<GovState, 'genesisTime' | 'epochMs'>, t: number): number {
  const k = Math.ceil((t - state.genesisTime) / state.epochMs)
  return state.genesisTime + Math.max(0, k) * state.epochMs
}

/** Index of the admission period containing `t`. */
export function admissionPeriodOf(state: GovState, t: number): number {
  return Math.floor((t - state.genesisTime) / state.params.admissionPeriodMs)
}
