import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { PARAM_NAMES, VOTE_CHOICES, isParamName, paramViolation } from '../../governance/index.js'
import { CommandFailedError, UsageError, intFlag } from '../exit.js'

/**
 * `commons gov …`: governance through a running node's HTTP API (`/api/gov/*`, see
 * `src/api/routes/gov.ts`). Reads work against any node; writes (propose, vote, delegate, vouch,
 * leave) are signed by THAT node's key, so they are accepted from its own machine or with its
 * admin token (`--token` / `COMMONS_ADMIN_TOKEN`). A write prints the pending entry: it takes
 * effect (or is refused, with a reason in `gov state`/`rejections`) once a final checkpoint
 * includes it.
 */

const DEFAULT_API = 'http://127.0.0.1:8080'
const NODE_ID = /^[0-9a-f]{64}$/

interface CommonOptions {
  api?: string
  token?: string
  json?: boolean
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--api <url>', `node API base URL (default $COMMONS_API or ${DEFAULT_API})`)
    .option('--token <token>', 'admin token for writes from another machine (default $COMMONS_ADMIN_TOKEN)')
    .option('--json', 'print JSON')
}

/** Options of a subcommand merged with its parents' (so `--json` works before or after the verb). */
function optionsOf(cmd: Command): CommonOptions {
  return cmd.optsWithGlobals<CommonOptions>()
}

async function call(opts: CommonOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const base = (opts.api ?? process.env.COMMONS_API ?? DEFAULT_API).replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(path, `${base}/`)
  } catch {
    throw new UsageError(`--api must be a URL, got '${base}'`)
  }
  const token = opts.token ?? process.env.COMMONS_ADMIN_TOKEN
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(30_000) })
  } catch (err) {
    throw new CommandFailedError(`no Commons node answers at ${base} (${(err as Error).message}); start one with 'commons start' or pass --api`)
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CommandFailedError(`${method} ${url.pathname}: HTTP ${res.status}, not JSON`)
  }
  if (!res.ok) {
    const message = (json as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`
    throw new CommandFailedError(`${method} ${url.pathname}: ${message}`)
  }
  return json
}

function print(opts: CommonOptions, value: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value)}\n` : `${human()}\n`)
}

function nodeId(name: string): (value: string) => string {
  return (value: string) => {
    if (!NODE_ID.test(value)) throw new UsageError(`${name} must be a node id (64 lowercase hex characters), got '${value}'`)
    return value
  }
}

function short(id: string): string {
  return `${id.slice(0, 12)}…`
}

function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString()
}

function printSubmitted(opts: CommonOptions, value: unknown): void {
  const v = value as { kind: string; hash: string; seq: number }
  print(opts, value, () => `${v.kind} entry ${v.hash} (seq ${v.seq}) submitted; it takes effect once a final checkpoint includes it`)
}

async function submit(cmd: Command, path: string, body: unknown): Promise<void> {
  const opts = optionsOf(cmd)
  printSubmitted(opts, await call(opts, 'POST', path, body))
}

function registerPropose(gov: Command): void {
  const propose = withCommon(gov.command('propose').description('open a proposal (signed by the node key)'))
    .option('--title <text>', 'title (default: generated from the action)')
    .option('--rationale <text>', 'why', '')
  const send = async (cmd: Command, action: Record<string, unknown>, title: string): Promise<void> => {
    const opts = cmd.optsWithGlobals<{ title?: string; rationale: string }>()
    await submit(cmd, '/api/gov/propose', { title: opts.title ?? title, rationale: opts.rationale, action })
  }

  withCommon(propose.command('admit-model').description('admit a model by its manifest (provenance)'))
    .requiredOption('--manifest <file>', 'models/<name>.manifest.json')
    .action(async (_o: unknown, cmd: Command) => {
      const file = cmd.opts<{ manifest: string }>().manifest
      let manifest: { name?: string }
      try {
        manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string }
      } catch (err) {
        throw new UsageError(`cannot read manifest ${file}: ${(err as Error).message}`)
      }
      await send(cmd, { type: 'admit-model', manifest }, `Admit model ${manifest.name ?? ''}`.trim())
    })

  withCommon(propose.command('retire-model').description('stop serving a model').argument('<sha256>', 'file sha256 of the model'))
    .option('--reason <text>', 'why', '')
    .action(async (sha256: string, _o: unknown, cmd: Command) => {
      if (!NODE_ID.test(sha256)) throw new UsageError(`sha256 must be 64 lowercase hex characters, got '${sha256}'`)
      await send(cmd, { type: 'retire-model', sha256, reason: cmd.opts<{ reason: string }>().reason }, `Retire model ${short(sha256)}`)
    })

  withCommon(
    propose
      .command('set-parameter')
      .description(`change a governed parameter (${PARAM_NAMES.join(', ')})`)
      .argument('<name>', 'parameter name')
      .argument('<value>', 'integer within the hard limits'),
  ).action(async (name: string, value: string, _o: unknown, cmd: Command) => {
    if (!isParamName(name)) throw new UsageError(`unknown parameter '${name}' (one of ${PARAM_NAMES.join(', ')})`)
    const n = Number(value)
    const why = paramViolation(name, n)
    if (value.trim() === '' || why !== null) throw new UsageError(why ?? `${name} needs a value`)
    await send(cmd, { type: 'set-parameter', name, value: n }, `Set ${name} to ${n}`)
  })

  withCommon(propose.command('set-witnesses').description('replace the witness set (2/3 supermajority)'))
    .requiredOption('--witness <id...>', 'witness node ids')
    .requiredOption('--threshold <k>', 'cosignatures for finality (k > 2n/3)', intFlag('--threshold', 1, 64))
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.opts<{ witness: string[]; threshold: number }>()
      const witnesses = o.witness.map(nodeId('--witness'))
      await send(cmd, { type: 'set-witnesses', witnesses, threshold: o.threshold }, `Witnesses: ${o.threshold} of ${witnesses.length}`)
    })

  withCommon(propose.command('amend-constitution').description('replace the constitution text (2/3 supermajority)'))
    .requiredOption('--text-file <file>', 'the new text')
    .action(async (_o: unknown, cmd: Command) => {
      const file = cmd.opts<{ textFile: string }>().textFile
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`)
      }
      await send(cmd, { type: 'amend-constitution', text }, 'Amend the constitution')
    })

  withCommon(propose.command('expel-member').description('expel a member (2/3 supermajority)').argument('<member>', 'node id'))
    .option('--reason <text>', 'why', '')
    .action(async (member: string, _o: unknown, cmd: Command) => {
      await send(cmd, { type: 'expel-member', member: nodeId('member')(member), reason: cmd.opts<{ reason: string }>().reason }, `Expel ${short(member)}`)
    })
}

/** Registers `commons gov` and its subcommands. */
export function registerGov(program: Command): void {
  const gov = withCommon(program.command('gov').description('governance: members, proposals, votes (through a node API)'))

  withCommon(gov.command('state').description('state root, log size, members, parameters, witnesses')).action(async (_o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd)
    const s = (await call(opts, 'GET', '/api/gov/state')) as Record<string, unknown> & { params: Record<string, number>; witnesses: { witnesses: string[]; threshold: number } }
    print(opts, s, () =>
      [
        `state root     ${String(s.stateRoot)}`,
        `log size       ${String(s.size)}   time ${when(s.time as number)}`,
        `members        ${String(s.members)}   open proposals ${String(s.openProposals)}   servable models ${String(s.servableModels)}`,
        `this node      ${String(s.nodeId)} (${s.isMember ? 'member' : 'not a member'})`,
        `witnesses      ${s.witnesses.threshold} of ${s.witnesses.witnesses.length}`,
        ...Object.entries(s.params).map(([k, v]) => `  ${k.padEnd(34)} ${v}`),
      ].join('\n'),
    )
  })

  withCommon(gov.command('members').description('members with status and who vouched for them')).action(async (_o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd)
    const r = (await call(opts, 'GET', '/api/gov/members')) as { members: Array<{ id: string; status: string; admittedAt: number | null; vouchedBy: unknown[]; delegatesTo: string | null; delegators: number }> }
    print(opts, r, () =>
      r.members
        .map((m) => `${m.id}  ${m.status.padEnd(8)} ${m.admittedAt === null ? 'genesis' : `admitted @${m.admittedAt}`}  vouches ${m.vouchedBy.length}  carries ${m.delegators}${m.delegatesTo ? `  delegates to ${short(m.delegatesTo)}` : ''}`)
        .join('\n') || '(no members)',
    )
  })

  withCommon(gov.command('proposals').description('proposals, newest first'))
    .option('--status <status>', 'pending | voting | passed | failed | executed')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = optionsOf(cmd)
      const status = cmd.opts<{ status?: string }>().status
      const r = (await call(opts, 'GET', `/api/gov/proposals${status ? `?status=${encodeURIComponent(status)}` : ''}`)) as {
        proposals: Array<{ id: number; type: string; title: string; status: string; votes: number; electorate: number; votingEndsAt: number }>
      }
      print(opts, r, () =>
        r.proposals.map((p) => `#${p.id}  ${p.status.padEnd(8)} ${p.type.padEnd(18)} votes ${p.votes}/${p.electorate}  ends ${when(p.votingEndsAt)}  ${p.title}`).join('\n') ||
        '(no proposals)',
      )
    })

  withCommon(gov.command('show').description('one proposal with its votes, tally and the entries behind it').argument('<id>', 'proposal id (log index)'))
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = optionsOf(cmd)
      const n = intFlag('id', 0, Number.MAX_SAFE_INTEGER)(id)
      const r = (await call(opts, 'GET', `/api/gov/proposals/${n}`)) as {
        proposal: { id: number; title: string; type: string; status: string; proposer: string; action: unknown; votingStartsAt: number; votingEndsAt: number; effectiveAt: number | null; electorate: number }
        trail: { tally: { yes: number; no: number; abstain: number; delegated: number; quorumMet: boolean } | null; votes: Array<{ member: string; choice: string; index: number }>; outcome: string | null }
      }
      const p = r.proposal
      print(opts, r, () =>
        [
          `#${p.id} ${p.title}`,
          `type ${p.type}   status ${p.status}   proposer ${p.proposer}   (propose entry: log index ${p.id})`,
          `voting ${when(p.votingStartsAt)} → ${when(p.votingEndsAt)}   electorate ${p.electorate}   effective ${when(p.effectiveAt)}`,
          `action ${JSON.stringify(p.action)}`,
          r.trail.tally ? `tally yes ${r.trail.tally.yes}  no ${r.trail.tally.no}  abstain ${r.trail.tally.abstain}  (delegated ${r.trail.tally.delegated})  quorum ${r.trail.tally.quorumMet ? 'met' : 'not met'}` : 'tally (not yet)',
          ...r.trail.votes.map((v) => `  ${v.member}  ${v.choice.padEnd(7)} entry ${v.index}`),
          `outcome ${r.trail.outcome ?? '-'}`,
        ].join('\n'),
      )
    })

  withCommon(gov.command('models').description('models admitted by governance (servable now)')).action(async (_o: unknown, cmd: Command) => {
    const opts = optionsOf(cmd)
    const r = (await call(opts, 'GET', '/api/gov/models')) as { servable: Array<{ sha256: string; name: string; admittedBy: number | null; manifest: { license?: string } }> }
    print(opts, r, () =>
      r.servable.map((m) => `${m.sha256}  ${m.name.padEnd(24)} ${String(m.manifest.license ?? '').padEnd(14)} ${m.admittedBy === null ? 'genesis' : `proposal #${m.admittedBy}`}`).join('\n') ||
      '(no servable models)',
    )
  })

  withCommon(gov.command('why').description('why is this model served (or not)? the decisions and entries behind it').argument('<sha256>', 'model file sha256'))
    .action(async (sha256: string, _o: unknown, cmd: Command) => {
      const opts = optionsOf(cmd)
      if (!NODE_ID.test(sha256)) throw new UsageError(`sha256 must be 64 lowercase hex characters, got '${sha256}'`)
      type Trail = { proposal: number; title: string; proposer: string; outcome: string | null; executedAt: number | null; votes: Array<{ member: string; choice: string; index: number }>; tally: { yes: number; no: number; abstain: number } | null }
      const r = (await call(opts, 'GET', `/api/gov/models/${sha256}`)) as { record: { status: string; manifest: { name?: string } }; admission: Trail | null; retirement: Trail | null }
      const trail = (label: string, t: Trail | null): string[] =>
        t === null
          ? [`${label}: genesis`]
          : [
              `${label}: proposal #${t.proposal} "${t.title}" by ${t.proposer} (propose entry: log index ${t.proposal}), executed ${when(t.executedAt)}, ${t.outcome ?? '-'}`,
              ...(t.tally ? [`  tally yes ${t.tally.yes}  no ${t.tally.no}  abstain ${t.tally.abstain}`] : []),
              ...t.votes.map((v) => `  ${v.member}  ${v.choice.padEnd(7)} entry ${v.index}`),
            ]
      print(opts, r, () =>
        [`${r.record.manifest.name ?? sha256}: ${r.record.status}`, ...trail('admitted', r.admission), ...(r.retirement ? trail('retired', r.retirement) : [])].join('\n'),
      )
    })

  registerPropose(gov)

  withCommon(gov.command('vote').description('vote on a proposal (changeable until its deadline)').argument('<id>', 'proposal id').argument('<choice>', VOTE_CHOICES.join(' | ')))
    .action(async (id: string, choice: string, _o: unknown, cmd: Command) => {
      const proposal = intFlag('id', 0, Number.MAX_SAFE_INTEGER)(id)
      if (!(VOTE_CHOICES as readonly string[]).includes(choice)) throw new UsageError(`choice must be one of ${VOTE_CHOICES.join(', ')}, got '${choice}'`)
      await submit(cmd, '/api/gov/vote', { proposal, choice })
    })

  withCommon(gov.command('delegate').description("delegate the node's vote to a member (one hop, capped)").argument('[member]', 'node id'))
    .option('--revoke', 'revoke the current delegation')
    .action(async (member: string | undefined, _o: unknown, cmd: Command) => {
      const revoke = cmd.opts<{ revoke?: boolean }>().revoke === true
      if (revoke === (member !== undefined)) throw new UsageError('give either a member id or --revoke')
      await submit(cmd, '/api/gov/delegate', { to: revoke ? null : nodeId('member')(member!) })
    })

  withCommon(gov.command('vouch').description('vouch for a candidate member').argument('<candidate>', 'node id')).action(async (candidate: string, _o: unknown, cmd: Command) => {
    await submit(cmd, '/api/gov/vouch', { candidate: nodeId('candidate')(candidate) })
  })

  withCommon(gov.command('leave').description('leave the membership')).action(async (_o: unknown, cmd: Command) => {
    await submit(cmd, '/api/gov/leave', {})
  })
}
