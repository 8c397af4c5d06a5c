/**
 * The web UI in a real browser (Debian's Chromium driven by playwright-core) against a real node
 * process: chat with streaming and stop, a model's provenance, a proposal and a vote changing the
 * tally, and an inclusion proof verified in the browser. Screenshots of every page go to the
 * git-ignored test-output/screenshots/. `.ci/run` installs Chromium with apt-get when it is missing.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { REPO_ROOT, spawnNode, tinyModel, type SpawnedNode } from '../helpers/node-process.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = join(REPO_ROOT, 'test-output', 'screenshots')

let node: SpawnedNode
let browser: Browser
let page: Page
const problems: string[] = []

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install the Debian package 'chromium' (.ci/run does)`)
  assert.ok(existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html')), 'web UI not built: npm ci runs `npm run build:web`')
  mkdirSync(SHOTS, { recursive: true })
  const tiny = await tinyModel()
  node = await spawnNode({ args: ['--model', tiny.path, '--parallel', '2'] })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
})

after(async () => {
  await browser?.close()
  await node?.stop()
})

async function open(route: string): Promise<void> {
  await page.goto(`${node.url}/#/${route}`)
  await page.waitForSelector('h1.page-title')
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

test('chat: a message streams an answer that names its worker', async () => {
  await open('chat')
  await page.waitForSelector('select option', { state: 'attached' })
  await page.fill('input[placeholder="random"]', '7')
  await page.fill('#prompt', 'In the beginning')
  await page.click('button[type=submit]')
  const answer = page.locator('article[data-role=assistant] .bubble').last()
  await page.waitForSelector('article[data-role=assistant] .turn-meta', { timeout: 60_000 })
  const text = (await answer.textContent()) ?? ''
  assert.ok(text.length > 0, 'the assistant answered with some text')
  const meta = (await page.locator('article[data-role=assistant] .turn-meta').last().textContent()) ?? ''
  assert.match(meta, /served by/)
  assert.match(meta, /tokens/)
  await shot('chat')
})

test('chat: stop ends a long answer mid-stream and the node stays usable', async () => {
  await open('chat')
  const newChat = page.locator('button', { hasText: 'New chat' })
  if (await newChat.isEnabled()) await newChat.click()
  await page.fill('input[type=number]', '1500')
  // Greedy decoding: the tiny seeded model never samples its end token early, so the answer is long.
  await page.locator('input[type=range]').evaluate((el: HTMLInputElement) => {
    el.value = '0'
    el.dispatchEvent(new Event('input', { bubbles: true }))
  })
  await page.fill('#prompt', 'Tell me a very long story')
  // The tiny model generates faster than a person clicks: throttle the browser's network (as a slow
  // connection would) so the answer is still streaming when Stop is pressed.
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 3000, uploadThroughput: -1 })
  await page.click('button[type=submit]')
  const stop = page.locator('button.danger', { hasText: 'Stop' })
  await stop.waitFor({ timeout: 30_000 })
  await page.waitForFunction(() => {
    const bubbles = document.querySelectorAll('article[data-role=assistant] .bubble')
    const last = bubbles[bubbles.length - 1]
    return last !== undefined && (last.textContent ?? '').replace('…', '').length > 0
  })
  await stop.click()
  await page.waitForSelector('.turn-meta .tag:text("stopped")', { timeout: 10_000 })
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  await cdp.detach()
  await page.locator('button[type=submit]').waitFor()
  // The slot was freed: the node answers the next request at once.
  const res = await fetch(`${node.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: (await (await fetch(`${node.url}/v1/models`)).json()).data[0].id, prompt: 'a', max_tokens: 2 }),
  })
  assert.equal(res.status, 200)
})

test('models: a model shows its provenance', async () => {
  await open('models')
  await page.waitForSelector('.model-card')
  const card = page.locator('.model-card').first()
  const text = (await card.textContent()) ?? ''
  assert.match(text, /file sha256/)
  assert.match(text, /license/)
  await shot('models')
})

test('network: this node and its throughput chart', async () => {
  await open('network')
  await page.waitForSelector('.spark svg')
  await page.waitForSelector('.stat')
  await shot('network')
})

test('governance: create a proposal, vote, and see the tally change', async () => {
  await open('governance')
  await page.waitForSelector('form[aria-label="New proposal"]')
  const before = await page.locator('[data-testid=proposal]').count()
  await page.fill('form[aria-label="New proposal"] input[required]', 'Longer voting period')
  await page.fill('form[aria-label="New proposal"] input[inputmode=decimal]', '600000')
  await page.click('text=Propose, signed by this node')
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=proposal]').length > n, before, { timeout: 60_000 })
  const proposal = page.locator('[data-testid=proposal]').first()
  const tallyBefore = (await proposal.locator('[data-testid=tally]').textContent()) ?? ''
  assert.match(tallyBefore, /yes 0/)
  await proposal.locator('button', { hasText: 'Yes' }).waitFor({ timeout: 60_000 })
  await proposal.locator('button', { hasText: 'Yes' }).click()
  await page.waitForFunction(
    () => /yes 1/.test(document.querySelector('[data-testid=proposal] [data-testid=tally]')?.textContent ?? ''),
    undefined,
    { timeout: 60_000 },
  )
  await shot('governance')
})

test('log: an entry’s inclusion proof verifies in the browser', async () => {
  await open('log')
  await page.waitForSelector('details.checkpoint', { timeout: 60_000 })
  await page.fill('#entry-query', '0')
  await page.click('text=Show')
  await page.click('text=Verify in my browser')
  const verdict = (await page.locator('[data-testid=verdict]').textContent()) ?? ''
  assert.match(verdict, /Verified/)
  await shot('log')
})

test('a phone-sized screen and no console errors', async () => {
  await page.setViewportSize({ width: 390, height: 844 })
  for (const route of ['chat', 'models', 'network', 'governance', 'log']) {
    await open(route)
    await page.waitForTimeout(300)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `${route} overflows a phone screen by ${overflow}px`)
    await shot(`phone-${route}`)
  }
  assert.deepEqual(problems, [])
})
