import { tensor } from '../backend/create.ts';
import { Random } from '../backend/random.ts';
import type { BackendName, Tensor } from '../backend/tensor.ts';
import { matmul } from '../ops/matmul.ts';

/**
 * Feature maps that turn a kernel SVM into a linear one: the linear solver on z(x) approximates
 * the kernel machine with k(x, y) ≈ z(x)·z(y). Both maps are a product with a random matrix
 * (the engine's matmul, on whatever backend, a block of rows at a time) followed by a cheap
 * elementwise step on the CPU.
 */
export interface FeatureMap {
  readonly dim: number;
  /** z(x) of `count` rows; `onRows` hears how many are done after each block. */
  apply(x: Float32Array, count: number, onRows?: (done: number) => void): Promise<Float32Array>;
  dispose(): void;
}

const ROWS_PER_BLOCK = 2048;

/** x [count, inDim] times Wᵀ (W is [outDim, inDim]) plus bias, a block of rows at a time; each block's result goes to `finish`. */
async function projectRows(
  x: Float32Array, count: number, W: Tensor, bias: Tensor,
  finish: (projected: Float32Array, row0: number, rows: number) => void,
  onRows?: (done: number) => void,
): Promise<void> {
  const [, inDim] = W.shape;
  for (let r0 = 0; r0 < count; r0 += ROWS_PER_BLOCK) {
    const rows = Math.min(ROWS_PER_BLOCK, count - r0);
    const block = tensor(x.subarray(r0 * inDim, (r0 + rows) * inDim), [rows, inDim], W.backend);
    const p = matmul(block, W, { transB: true, bias });
    block.dispose();
    const values = await p.read();
    p.dispose();
    finish(values, r0, rows);
    onRows?.(r0 + rows);
  }
}

/**
 * Random Fourier features for the RBF kernel exp(−γ‖x − y‖²) (Rahimi & Recht 2007):
 * z(x) = sqrt(2/D)·cos(Wx + b), W ~ N(0, 2γ·I), b ~ U(0, 2π); E[z(x)·z(y)] is the kernel.
 */
export function randomFourierFeatures(inDim: number, D: number, gamma: number, seed: number, backend: BackendName): FeatureMap {
  const random = new Random(seed);
  const sd = Math.sqrt(2 * gamma);
  const w = Float32Array.from({ length: D * inDim }, () => sd * random.normal());
  const b = Float32Array.from({ length: D }, () => random.uniform(0, 2 * Math.PI));
  const W = tensor(w, [D, inDim], backend);
  const bias = tensor(b, [D], backend);
  const scale = Math.sqrt(2 / D);
  return {
    dim: D,
    async apply(x, count, onRows) {
      const z = new Float32Array(count * D);
      await projectRows(x, count, W, bias, (p, r0) => {
        for (let i = 0; i < p.length; i++) z[r0 * D + i] = scale * Math.cos(p[i]);
      }, onRows);
      return z;
    },
    dispose() {
      W.dispose();
      bias.dispose();
    },
  };
}

/**
 * Random Maclaurin features for the polynomial kernel (γ·x·y + c)^p (Kar & Karnick 2012, the
 * fixed-degree case): z_j(x) = D^(−1/2)·Π_{i<p} (w_ji·x'), with x' = (sqrt(γ)·x, sqrt(c)) and
 * independent Rademacher (±1) vectors w_ji, so that E[z(x)·z(y)] = (x'·y')^p, the kernel. We
 * chose these over the exact kernel on a training subset because they keep the whole training
 * set and the same linear solver as the RBF map; the price is variance (a product of p random
 * projections has heavy tails), which more features reduce. The constant coordinate sqrt(c)
 * enters as the product's bias.
 */
export function randomMaclaurinFeatures(inDim: number, D: number, degree: number, gamma: number, coef0: number, seed: number, backend: BackendName): FeatureMap {
  const random = new Random(seed);
  const sign = () => (random.next() < 0.5 ? -1 : 1);
  const cols = D * degree;
  const w = Float32Array.from({ length: cols * inDim }, () => Math.sqrt(gamma) * sign());
  const b = Float32Array.from({ length: cols }, () => Math.sqrt(coef0) * sign());
  const W = tensor(w, [cols, inDim], backend);
  const bias = tensor(b, [cols], backend);
  const scale = 1 / Math.sqrt(D);
  return {
    dim: D,
    async apply(x, count, onRows) {
      const z = new Float32Array(count * D);
      await projectRows(x, count, W, bias, (p, r0, rows) => {
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < D; j++) {
            let v = scale;
            for (let i = 0; i < degree; i++) v *= p[r * cols + j * degree + i];
            z[(r0 + r) * D + j] = v;
          }
        }
      }, onRows);
      return z;
    },
    dispose() {
      W.dispose();
      bias.dispose();
    },
  };
}
