import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/** Where `npm run build:web` (run by `npm ci` through `prepare`) writes the web UI. */
export const WEB_DIST = fileURLToPath(new URL('../../../dist/web/', import.meta.url))

/**
 * Serves the web UI at `/` from the build in dist/web. Everything the page needs is served from
 * this node: no CDN at run time. Without a build, `/` explains how to make one instead of 404ing.
 */
export async function webRoutes(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? WEB_DIST
  if (!existsSync(`${root}/index.html`)) {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The web UI is not built. Run `npm run build:web` (npm ci does it), then reload.\n'),
    )
    return
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    // Hashed asset names change with content, so they can be cached for good; index.html cannot.
    setHeaders: (res, path) => {
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
      res.header('x-content-type-options', 'nosniff')
    },
  })
}
