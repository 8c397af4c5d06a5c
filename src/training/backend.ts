/**
 * TensorFlow.js backend selection. We train on `@tensorflow/tfjs-backend-wasm` (XNNPACK, WASM
 * SIMD, one thread in Node): on this 2-core machine a 4096×256×768 matmul runs at ~15 GFLOP/s
 * there versus ~0.5 GFLOP/s for a hand-written Float32Array loop and far less on
 * tfjs-backend-cpu, and its single-threaded kernels are deterministic.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import { register } from 'node:module'

let ready: Promise<void> | undefined

/** Selects the wasm backend once per process. */
export function initBackend(): Promise<void> {
  ready ??= (async () => {
    // The CommonJS build Node loads for '@tensorflow/tfjs-core' has no gradient functions; they
    // live only in the ESM build, which registers them into the same global registry.
    // (A bundled build — see scripts/bundle-train — has them resolved already and no hook file.)
    if (!import.meta.url.endsWith('.mjs')) register('./tfjs-esm-hook.js', import.meta.url)
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js')
    await tf.setBackend('wasm')
    await tf.ready()
  })()
  return ready
}

export { tf }
