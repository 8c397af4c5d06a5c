import { sha256Hex } from '../identity/index.js'
import { dropDelegationsOf } from './membership.js'
import { paramViolation } from './params.js'
import { validWitnessThreshold } from './witnesses.js'
import type { GovState, Proposal } from './types.js'

/**
 * Carries out a passed proposal at its effective time `at` (an epoch start) and returns what it
 * did. Conditions are checked again here because the state may have moved since the proposal was
 * made (the model was retired meanwhile, the member already left): then nothing changes and the
 * outcome says why. Every effect records the proposal id, which links to the propose and vote
 * entries behind it.
 */
export function executeProposal(state: GovState, proposal: Proposal, at: number): string {
  const action = proposal.action
  switch (action.type) {
    case 'admit-model': {
      const sha256 = action.manifest.file.sha256
      const existing = state.models[sha256]
      if (existing?.status === 'servable') return 'no-op: model already servable'
      state.models[sha256] = {
        manifest: action.manifest,
        status: 'servable',
        admittedBy: proposal.id,
        admittedAt: at,
        retiredBy: null,
        retiredAt: null,
      }
      return 'applied'
    }
    case 'retire-model': {
      const model = state.models[action.sha256]
      if (model === undefined || model.status !== 'servable') return 'no-op: model not servable'
      model.status = 'retired'
      model.retiredBy = proposal.id
      model.retiredAt = at
      return 'applied'
    }
    case 'set-parameter': {
      // Bounds were checked at proposal time; checked again so no path can store an illegal value.
      if (paramViolation(action.name, action.value) !== null) return 'no-op: value outside hard limits'
      ;(state.params as Record<string, number>)[action.name] = action.value
      state.paramHistory.push({ name: action.name, value: action.value, proposal: proposal.id, at })
      return 'applied'
    }
    case 'set-witnesses': {
      const witnesses = [...action.witnesses].sort()
      if (!validWitnessThreshold(witnesses.length, action.threshold)) return 'no-op: invalid threshold'
      state.witnesses = { witnesses, threshold: action.threshold, setBy: proposal.id, since: at }
      return 'applied'
    }
    case 'amend-constitution': {
      state.constitution = { text: action.text, sha256: sha256Hex(action.text), amendedBy: proposal.id, since: at }
      return 'applied'
    }
    case 'expel-member': {
      const member = state.members[action.member]
      if (member === undefined || member.status !== 'active') return 'no-op: not an active member'
      member.status = 'expelled'
      member.expelledBy = proposal.id
      state.activeMembers--
      dropDelegationsOf(state, action.member)
      // Sybil cost: whoever vouched this member in loses the right to vouch for a while.
      for (const { voucher } of member.vouchedBy) {
        const record = (state.vouchers[voucher] ??= { period: 0, count: 0, penaltyUntil: 0, penaltyCause: null })
        const until = at + state.params.vouchPenaltyMs
        if (until > record.penaltyUntil) {
          record.penaltyUntil = until
          record.penaltyCause = proposal.id
        }
      }
      return 'applied'
    }
  }
}
