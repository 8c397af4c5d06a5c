/** The HTTP API: OpenAI-compatible `/v1`, `/healthz`, `/metrics`, and plugins added by the node. */
export { buildApi, DEFAULT_BODY_LIMIT, type Api, type ApiOptions, type ApiPlugin } from './app.js'
export { API_ERROR_REGISTRY, renderError, type OpenAiErrorBody } from './error-handler.js'
export type { ModelLoad, ApiMetrics } from './metrics.js'
export * from './errors.js'
