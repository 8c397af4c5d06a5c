import type { SamplingParams } from './engine.js'
import { gumbel } from './prf.js'

/**
 * Counter-based sampling (DESIGN.md, "Jobs"). Given the model's logits for output index t, the
 * chosen token is a pure function of (logits, params, t, recent context tokens): no RNG state.
 * This module is the specification a verifier replays, so every step is spelled out:
 *
 *  1. Repeat penalty (CTRL, Keskar et al. 2019, as in llama.cpp): every distinct token among the
 *     last `repeatLastN` context tokens (prompt and output; negative = all, 0 = none) gets
 *     logit / penalty if its logit is positive, logit × penalty otherwise.
 *  2. Candidates: the K highest penalized logits, ties broken by the smaller token id, with
 *     K = min(topK, MAX_CANDIDATES), or MAX_CANDIDATES when topK = 0, and at most
 *     GREEDY_CANDIDATES at temperature 0. The cap keeps the candidate transfer out of llama.cpp
 *     small; it changes nothing unless topK = 0 and the tail past the MAX_CANDIDATES-th token
 *     carries mass (or, greedy, more than GREEDY_CANDIDATES tokens tie for the best logit).
 *  3. temperature = 0: greedy, the first candidate; its logprob is reported as 0 (the sampling
 *     distribution is a point mass).
 *  4. Otherwise scaled logits s = logit / temperature and p = softmax(s) over the K candidates;
 *     top_p keeps the shortest prefix whose cumulative p reaches topP (at least one token);
 *     min_p then keeps tokens with p ≥ minP × p_max. (Temperature before truncation, as in
 *     Hugging Face transformers and vLLM; llama.cpp truncates before scaling.)
 *  5. Gumbel-max: the token kept with the largest s_i + g(seed, t, id_i), where
 *     g = −log(−log(u)) and u = Philox4x32-10(counter (t, id), key (seed, 0)) (see prf.ts). This
 *     is an exact draw from softmax(s) restricted to the kept tokens; the reported logprob is
 *     s_chosen − logsumexp(s_kept).
 */

/** Upper bound on the candidates considered for one token (see step 2). */
export const MAX_CANDIDATES = 1024

/** Result of sampling one token. */
export interface SampledToken {
  readonly id: number
  /** Natural-log probability of `id` under the sampling distribution (0 for greedy). */
  readonly logprob: number
}

/**
 * Raw (unpenalized) logits of a subset of the vocabulary, in any order. It must contain the
 * `candidatesNeeded(...)` highest logits for the result to equal sampling over the full
 * vocabulary.
 */
export interface Candidates {
  readonly ids: ArrayLike<number>
  readonly logits: ArrayLike<number>
}

/** Tokens penalized by step 1: the distinct tokens among the last `repeatLastN` context tokens. */
export function penalizedTokens(params: SamplingParams, context: readonly number[]): Set<number> {
  const result = new Set<number>()
  if (params.repeatPenalty === 1 || params.repeatLastN === 0) return result
  const start = params.repeatLastN < 0 ? 0 : Math.max(0, context.length - params.repeatLastN)
  for (let i = start; i < context.length; i++) result.add(context[i]!)
  return result
}

/**
 * Candidates kept for a greedy draw. Only the first one is chosen; the few after it let the
 * tie rule of step 2 (smaller id first) see tokens whose logits equal the best one's.
 */
export const GREEDY_CANDIDATES = 8

/**
 * K of step 2. A greedy draw (temperature 0) needs only the head of the ranking, and fetching 8
 * candidates instead of 1,024 out of llama.cpp is most of the sampling cost per token.
 */
export function candidateCount(params: SamplingParams): number {
  const k = params.topK > 0 ? Math.min(params.topK, MAX_CANDIDATES) : MAX_CANDIDATES
  return params.temperature <= 0 ? Math.min(k, GREEDY_CANDIDATES) : k
}

/**
 * How many of the highest raw logits a caller must supply so that `sampleToken` is exact: the
 * penalty only lowers logits, so the top K after penalty lie within the top K + |penalized|
 * before it.
 */
export function candidatesNeeded(params: SamplingParams, penalized: ReadonlySet<number>): number {
  return candidateCount(params) + penalized.size
}

/** The `k` highest entries of a full logits vector (ties: smaller id first), for verifiers. */
export function topCandidates(logits: ArrayLike<number>, k: number): Candidates {
  const order = Array.from({ length: logits.length }, (_, i) => i)
  order.sort((a, b) => logits[b]! - logits[a]! || a - b)
  const chosen = order.slice(0, Math.min(k, order.length))
  return { ids: chosen, logits: chosen.map((i) => logits[i]!) }
}

/**
 * Chooses output token `t` (0-based, counting resumed tokens) from `candidates`.
 * @param penalized - `penalizedTokens(params, context)` for the context before token t.
 */
export function sampleToken(
  candidates: Candidates,
  params: SamplingParams,
  t: number,
  penalized: ReadonlySet<number>,
): SampledToken {
  const n = candidates.ids.length
  if (n === 0) throw new RangeError('sampleToken needs at least one candidate')
  const ids = new Int32Array(n)
  const logits = new Float64Array(n)
  const penalty = params.repeatPenalty
  for (let j = 0; j < n; j++) {
    const id = candidates.ids[j]!
    let logit = candidates.logits[j]!
    if (penalty !== 1 && penalized.has(id)) logit = logit > 0 ? logit / penalty : logit * penalty
    ids[j] = id
    logits[j] = logit
  }
  const order = Array.from({ length: n }, (_, j) => j)
  order.sort((a, b) => logits[b]! - logits[a]! || ids[a]! - ids[b]!)
  const k = Math.min(candidateCount(params), n)

  if (params.temperature <= 0) return { id: ids[order[0]!]!, logprob: 0 }

  const scaled = new Float64Array(k)
  for (let r = 0; r < k; r++) scaled[r] = logits[order[r]!]! / params.temperature
  const max = scaled[0]!
  const weights = new Float64Array(k)
  let total = 0
  for (let r = 0; r < k; r++) {
    weights[r] = Math.exp(scaled[r]! - max)
    total += weights[r]!
  }

  // top_p over the K candidates, in rank order.
  let kept = k
  if (params.topP < 1) {
    let cumulative = 0
    for (let r = 0; r < k; r++) {
      cumulative += weights[r]! / total
      if (cumulative >= params.topP) {
        kept = r + 1
        break
      }
    }
  }
  // min_p: p_r / p_max = weights[r] because weights[0] = 1; rank order makes it a prefix.
  if (params.minP > 0) {
    let r = 1
    while (r < kept && weights[r]! >= params.minP) r++
    kept = r
  }

  let best = 0
  let bestScore = -Infinity
  let keptTotal = 0
  for (let r = 0; r < kept; r++) {
    keptTotal += weights[r]!
    const score = scaled[r]! + gumbel(params.seed, t, ids[order[r]!]!)
    if (score > bestScore) {
      bestScore = score
      best = r
    }
  }
  return { id: ids[order[best]!]!, logprob: scaled[best]! - max - Math.log(keptTotal) }
}
