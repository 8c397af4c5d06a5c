import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { CommonsError } from '../../errors.js'
import {
  GOV_BODY_SCHEMAS,
  PARAMS,
  PARAM_NAMES,
  decisionTrail,
  explainModel,
  getProposal,
  listMembers,
  listProposals,
  servableModels,
  stateRoot,
  type GovKind,
  type GovState,
  type ProposalStatus,
} from '../../governance/index.js'
import { InvalidParameterError } from '../errors.js'

/**
 * `/api/gov/*` and `/api/state`: governance through HTTP.
 *
 * Reads are public: the state is derived from the public log, so anyone may see it, and every
 * decision view carries the log indexes of the entries behind it (audit down to signatures via
 * `/api/log/entries/:index`).
 *
 * Writes (`POST /api/gov/{propose,vote,delegate,vouch,leave}`) append an entry signed SERVER-SIDE
 * with this node's own key, so they act in the name of the node's operator. They are accepted only:
 *  - with `Authorization: Bearer <admin token>` when the node has an admin token, or
 *  - from a loopback address (127.0.0.0/8, ::1) AND without a cross-site `Origin` header: a web
 *    page on another site, opened in the operator's browser, must not be able to vote through it
 *    (browsers send `Origin` on cross-site POSTs; the JSON content type forces a CORS preflight).
 * Anything else gets 403 `forbidden`. A write answers 202: the entry is pending until a final
 * checkpoint includes it; its effect (or the reason it was refused) then shows in the state.
 */

/** What the routes need from the node's governance service (`src/node/governance.ts`). */
export interface GovernanceAccess {
  /** The state derived from the final log so far. */
  state(): GovState
  /** `stateRoot(state())`, cached by the service (hashing a large state costs ~1 s per 100k entries). */
  stateRoot(): string
  /** This node's id (hex public key): the author of the entries it writes. */
  readonly nodeId: string
  /** Signs `body` as an entry of `kind` with the node's key and submits it to the log. */
  submit(kind: GovKind, body: unknown): Promise<SubmittedEntry>
}

/** An entry accepted for the log, not final yet. */
export interface SubmittedEntry {
  readonly hash: string
  readonly kind: string
  readonly author: string
  readonly seq: number
}

export interface GovRoutesOptions {
  /** The node's governance, or undefined when it keeps no log (503). */
  readonly governance: () => GovernanceAccess | undefined
  /** When set, `Authorization: Bearer <token>` authorizes writes from anywhere. */
  readonly adminToken?: string
}

/** The node keeps no log, so it has no governance state. */
export class GovernanceUnavailableError extends CommonsError {
  constructor() {
    super('governance_unavailable', 'This node keeps no log, so it has no governance state', { status: 503 })
  }
}

/** A write from a client that is neither local nor holding the admin token. */
export class WriteForbiddenError extends CommonsError {
  constructor(why: string) {
    super('forbidden', `Governance writes sign with this node's key: ${why}`, { status: 403 })
  }
}

const PROPOSAL_STATUSES = ['pending', 'voting', 'passed', 'failed', 'executed'] as const satisfies readonly ProposalStatus[]
const IdParams = z.object({ id: z.coerce.number().int().min(0) })
const ShaParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters') })
const ProposalsQuery = z.object({ status: z.enum(PROPOSAL_STATUSES).optional() })
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) })

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value ?? {})
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const param = issue?.path.join('.') || where
  throw new InvalidParameterError(param, `Invalid ${param}: ${issue?.message ?? 'invalid value'}`)
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false
  const given = Buffer.from(header.slice('Bearer '.length))
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The Origin is absent (curl, the CLI) or the node itself (its own web UI). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true
  try {
    // Through URL on both sides, so a default port (`:80`) compares equal to none.
    return new URL(origin).host === new URL(`http://${request.headers.host ?? ''}`).host
  } catch {
    return false
  }
}

/** Summary of the state: the root every node at the same log size agrees on, and counts. */
export function stateSummary(state: GovState, root: string = stateRoot(state)) {
  const proposals = Object.values(state.proposals)
  return {
    network: state.network,
    stateRoot: root,
    /** Log entries applied (= index of the next one). */
    size: state.lastIndex + 1,
    time: state.time,
    members: state.activeMembers,
    openProposals: state.open.length,
    proposals: proposals.length,
    servableModels: servableModels(state).length,
    rejections: state.rejections.length,
  }
}

/** Fastify plugin: `/api/state` and `/api/gov/*`. */
export function govRoutes(options: GovRoutesOptions) {
  const open = (): GovernanceAccess => {
    const g = options.governance()
    if (g === undefined) throw new GovernanceUnavailableError()
    return g
  }
  const authorize = (request: FastifyRequest): void => {
    if (options.adminToken !== undefined && tokenMatches(request.headers.authorization, options.adminToken)) return
    if (!isLoopback(request.ip)) throw new WriteForbiddenError('only from this machine, or with the admin token')
    if (!sameOrigin(request)) throw new WriteForbiddenError(`refused for Origin ${request.headers.origin ?? ''}`)
  }

  return async function govPlugin(app: FastifyInstance): Promise<void> {
    app.get('/api/state', async () => {
      const g = open()
      const s = g.state()
      return { stateRoot: g.stateRoot(), size: s.lastIndex + 1, time: s.time, network: s.network }
    })

    app.get('/api/gov/state', async () => {
      const g = open()
      const s = g.state()
      return {
        ...stateSummary(s, g.stateRoot()),
        nodeId: g.nodeId,
        isMember: s.members[g.nodeId]?.status === 'active',
        params: s.params,
        witnesses: s.witnesses,
        constitution: { sha256: s.constitution.sha256, amendedBy: s.constitution.amendedBy, since: s.constitution.since },
      }
    })

    app.get('/api/gov/params', async () => {
      const s = open().state()
      return {
        params: PARAM_NAMES.map((name) => ({ name, value: s.params[name], ...PARAMS[name] })),
        history: s.paramHistory,
      }
    })

    app.get('/api/gov/constitution', async () => open().state().constitution)

    app.get('/api/gov/members', async () => {
      const s = open().state()
      return { members: listMembers(s), candidates: s.candidates }
    })

    app.get('/api/gov/proposals', async (request) => {
      const { status } = parse(ProposalsQuery, request.query, 'query')
      const g = open()
      const s = g.state()
      // `myVote`: this node's vote in force, so a UI can show what its operator chose.
      return { proposals: listProposals(s, status).map((p) => ({ ...p, myVote: s.proposals[p.id]!.votes[g.nodeId]?.choice ?? null })) }
    })

    app.get('/api/gov/proposals/:id', async (request) => {
      const { id } = parse(IdParams, request.params, 'id')
      const s = open().state()
      return { proposal: getProposal(s, id), trail: decisionTrail(s, id) }
    })

    app.get('/api/gov/models', async () => {
      const s = open().state()
      return { servable: servableModels(s), all: s.models }
    })

    app.get('/api/gov/models/:sha256', async (request) => {
      const { sha256 } = parse(ShaParams, request.params, 'sha256')
      return explainModel(open().state(), sha256)
    })

    app.get('/api/gov/rejections', async (request) => {
      const { limit } = parse(LimitQuery, request.query, 'query')
      const all = open().state().rejections
      return { total: all.length, rejections: all.slice(-limit).reverse() }
    })

    const write = (path: string, kind: GovKind) => {
      app.post(path, async (request, reply) => {
        authorize(request)
        const g = open()
        const body = parse(GOV_BODY_SCHEMAS[kind], request.body, 'body')
        const submitted = await g.submit(kind, body)
        return reply.code(202).send({ status: 'pending', ...submitted })
      })
    }
    write('/api/gov/propose', 'propose')
    write('/api/gov/vote', 'vote')
    write('/api/gov/delegate', 'delegate')
    write('/api/gov/vouch', 'member-vouch')
    write('/api/gov/leave', 'member-leave')
  }
}
