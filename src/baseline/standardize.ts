/**
 * Per-column standardization, (x − mean) / std with both fitted on the training rows and
 * applied unchanged to the test rows. A column that never varies is only centred.
 */
export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

export function fitStandardizer(x: Float32Array, count: number, dim: number): Standardizer {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let k = 0; k < dim; k++) mean[k] += x[r * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= Math.max(1, count);
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < dim; k++) {
      const d = x[r * dim + k] - mean[k];
      sq[k] += d * d;
    }
  }
  const scale = sq.map((s) => {
    const std = Math.sqrt(s / Math.max(1, count));
    return std > 1e-12 ? 1 / std : 1;
  });
  return { mean, scale };
}

/** A standardized copy of `x`. */
export function standardize(x: Float32Array, count: number, dim: number, s: Standardizer): Float32Array {
  const out = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) for (let k = 0; k < dim; k++) out[r * dim + k] = (x[r * dim + k] - s.mean[k]) * s.scale[k];
  return out;
}

/**
 * Centring with one common scale for every column (the root mean square of the centred values):
 * a translation and a uniform scaling, which keep the geometry that a kernel's feature map
 * encodes. Per-column standardization would not: a random Fourier feature cos(w·x + b) whose
 * phase b sits near an extremum of the cosine barely varies, and dividing by its tiny standard
 * deviation blows its second-order wiggle up to the size of every informative feature.
 */
export function fitCentering(x: Float32Array, count: number, dim: number): Standardizer {
  const { mean } = fitStandardizer(x, count, dim);
  let sq = 0;
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < dim; k++) {
      const d = x[r * dim + k] - mean[k];
      sq += d * d;
    }
  }
  const rms = Math.sqrt(sq / Math.max(1, count * dim));
  return { mean, scale: new Float64Array(dim).fill(rms > 1e-12 ? 1 / rms : 1) };
}
