import { ChatPage } from './pages/chat.js'
import { GovernancePage } from './pages/governance.js'
import { LogPage } from './pages/log.js'
import { ModelsPage } from './pages/models.js'
import { NetworkPage } from './pages/network.js'
import { useHashRoute } from './hooks.js'
import { useJson } from './hooks.js'
import { Id } from './components/ui.js'

const PAGES = [
  { path: 'chat', label: 'Chat' },
  { path: 'models', label: 'Models' },
  { path: 'network', label: 'Network' },
  { path: 'governance', label: 'Governance' },
  { path: 'log', label: 'Log' },
] as const

type PagePath = (typeof PAGES)[number]['path']

function parseRoute(route: string): { page: PagePath; rest: string[] } {
  const [head = '', ...rest] = route.split('/')
  const page = PAGES.find((p) => p.path === head)?.path ?? 'chat'
  return { page, rest }
}

export function App() {
  const route = useHashRoute()
  const { page, rest } = parseRoute(route)
  const health = useJson<{ node_id?: string | null; status?: string }>('/healthz', 10_000)
  const selected = page === 'log' && rest[0] !== undefined && /^\d+$/.test(rest[0]) ? Number(rest[0]) : null
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/chat" aria-label="Commons home">
          <svg viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="16" cy="16" r="14" />
            <circle cx="16" cy="16" r="6" class="inner" />
          </svg>
          Commons
        </a>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={page === p.path ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <span class={`health ${health.error ? 'down' : 'up'}`} title={health.error ?? 'node is up'}>
          {health.error ? 'offline' : <>node <Id value={health.data?.node_id} /></>}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 class="page-title">{PAGES.find((p) => p.path === page)?.label}</h1>
        {page === 'chat' && <ChatPage />}
        {page === 'models' && <ModelsPage />}
        {page === 'network' && <NetworkPage />}
        {page === 'governance' && <GovernancePage />}
        {page === 'log' && <LogPage selected={selected} />}
      </main>
      <footer class="bottom">
        Open models, served by volunteers, governed in the open. <a href="/v1/models">API</a> · <a href="/metrics">metrics</a>
      </footer>
    </>
  )
}
