// Worker entry: worker threads do not inherit the parent's tsx loader hooks, so register them
// here before importing the TypeScript worker body.
import { register } from 'tsx/esm/api'

register()
await import('./verify-worker.ts')
