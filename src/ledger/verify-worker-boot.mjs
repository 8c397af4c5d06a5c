// Fallback worker entry when the worker cannot be bundled (`verify-worker-bundle.ts`): worker
// threads do not inherit the parent's tsx loader hooks, so register them here before importing
// the TypeScript worker body. Slow to start (seconds); the bundle is the normal path.
import { register } from 'tsx/esm/api'

register()
await import('./verify-worker.ts')
