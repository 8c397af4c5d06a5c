/**
 * Causal scaled-dot-product attention as one custom op with a hand-written backward pass.
 *
 * Why not tf.matMul on [B·H, T, hd] tensors: the wasm backend runs batched (or transposed)
 * matmuls in a scalar loop (~0.5 GFLOP/s here) and its unstack/slice kernels copy element by
 * element, so we run one untransposed 2-D XNNPACK matmul per (sequence, head) on tensors built
 * straight from the flat arrays.
 *
 * Forward (per slice i):   S = Q·Kᵀ/√d + M,  P = softmax(S),  O = P·V
 * Backward:                dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
 *                          dQ = dS·K/√d,  dK = dSᵀ·Q/√d
 */
import { tf } from './backend.js'

type Save = (tensors: tf.Tensor[]) => void

function transposeInto(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!
  return out
}

/**
 * Attention over q, k, v of shape [N, T, hd] (N = batch·heads), causal within each slice.
 * `mask` is [T, T] with 0 on/below the diagonal and −1e9 above.
 */
export function causalAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  const [N, T, hd] = q.shape
  const scale = 1 / Math.sqrt(hd)
  const size = T * hd
  const op = tf.customGrad((...inputs: Array<tf.Tensor | Save>) => {
    const [qT, kT, vT] = inputs as tf.Tensor3D[]
    const save = inputs[3] as Save
    const qd = qT!.dataSync() as Float32Array
    const kd = kT!.dataSync() as Float32Array
    const vd = vT!.dataSync() as Float32Array
    const out = new Float32Array(N * size)
    const probs = new Float32Array(N * T * T)
    for (let i = 0; i < N; i++) {
      const p = tf.tidy(() => {
        const qi = tf.tensor2d(qd.subarray(i * size, (i + 1) * size), [T, hd])
        const kti = tf.tensor2d(transposeInto(kd.subarray(i * size, (i + 1) * size), T, hd), [hd, T])
        return tf.softmax(tf.add(tf.mul(tf.matMul(qi, kti), scale), mask))
      })
      const pd = p.dataSync() as Float32Array
      probs.set(pd, i * T * T)
      const o = tf.tidy(() => tf.matMul(p as tf.Tensor2D, tf.tensor2d(vd.subarray(i * size, (i + 1) * size), [T, hd])))
      out.set(o.dataSync() as Float32Array, i * size)
      p.dispose()
      o.dispose()
    }
    const probsT = tf.tensor3d(probs, [N, T, T])
    save([qT!, kT!, vT!, probsT])
    return {
      value: tf.tensor3d(out, [N, T, hd]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as tf.Tensor3D[]
        const qs = sq!.dataSync() as Float32Array
        const ks = sk!.dataSync() as Float32Array
        const vs = sv!.dataSync() as Float32Array
        const ps = sp!.dataSync() as Float32Array
        const dys = dy.dataSync() as Float32Array
        const dq = new Float32Array(N * size)
        const dk = new Float32Array(N * size)
        const dv = new Float32Array(N * size)
        for (let i = 0; i < N; i++) {
          const pi = ps.subarray(i * T * T, (i + 1) * T * T)
          const [dqi, dki, dvi] = tf.tidy(() => {
            const P = tf.tensor2d(pi, [T, T])
            const Pt = tf.tensor2d(transposeInto(pi, T, T), [T, T])
            const dO = tf.tensor2d(dys.subarray(i * size, (i + 1) * size), [T, hd])
            const Vt = tf.tensor2d(transposeInto(vs.subarray(i * size, (i + 1) * size), T, hd), [hd, T])
            const dV = tf.matMul(Pt, dO)
            const dP = tf.matMul(dO, Vt)
            const dS = tf.mul(P, tf.sub(dP, tf.sum(tf.mul(dP, P), 1, true)))
            const K = tf.tensor2d(ks.subarray(i * size, (i + 1) * size), [T, hd])
            const Q = tf.tensor2d(qs.subarray(i * size, (i + 1) * size), [T, hd])
            const dQ = tf.mul(tf.matMul(dS, K), scale)
            const dK = tf.mul(tf.matMul(tf.transpose(dS), Q), scale)
            return [dQ.dataSync() as Float32Array, dK.dataSync() as Float32Array, dV.dataSync() as Float32Array]
          })
          dq.set(dqi!, i * size)
          dk.set(dki!, i * size)
          dv.set(dvi!, i * size)
        }
        return [tf.tensor3d(dq, [N, T, hd]), tf.tensor3d(dk, [N, T, hd]), tf.tensor3d(dv, [N, T, hd])]
      },
    }
  })
  return op(q, k, v) as tf.Tensor3D
}
