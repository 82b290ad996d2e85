/**
 * A tiny anti-aliased rasterizer for the synthetic faces. Shapes are signed distance functions
 * in face units (negative inside); a pixel takes a shape's tone in proportion to how much of it
 * the shape covers, estimated from the distance at its centre with a ramp one pixel wide
 * (wider for soft shadows). Painting is back to front, like a painter's layers.
 */

export type Sdf = (u: number, v: number) => number;

export interface Layer {
  sd: Sdf;
  /** Gray level 0–255, or a function of the face position for shading. */
  tone: number | ((u: number, v: number) => number);
  /** [u0, v0, u1, v1]: the shape lies inside; pixels outside skip it. */
  box: readonly [number, number, number, number];
  /** Width of the edge ramp in pixels (1 = crisp anti-aliased edge). */
  soft?: number;
  opacity?: number;
}

/** Pixel → face coordinates: (x, y) about `cx, cy`, turned by `angle`, divided by `scale` px per unit. */
export interface FaceFrame {
  cx: number;
  cy: number;
  scale: number;
  angle: number;
}

/** Paints `layers` over `canvas` (width·width floats, already holding the background). */
export function paint(canvas: Float32Array, width: number, frame: FaceFrame, layers: readonly Layer[]): void {
  const c = Math.cos(frame.angle);
  const s = Math.sin(frame.angle);
  const k = 1 / frame.scale;
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - frame.cx;
      const dy = y + 0.5 - frame.cy;
      const u = (c * dx + s * dy) * k;
      const v = (-s * dx + c * dy) * k;
      let val = canvas[y * width + x];
      for (const L of layers) {
        const soft = L.soft ?? 1;
        const m = soft * k;
        const b = L.box;
        if (u < b[0] - m || u > b[2] + m || v < b[1] - m || v > b[3] + m) continue;
        const d = (L.sd(u, v) * frame.scale) / soft;
        if (d >= 0.5) continue;
        const a = Math.min(1, 0.5 - d) * (L.opacity ?? 1);
        const t = typeof L.tone === 'number' ? L.tone : L.tone(u, v);
        val += (t - val) * a;
      }
      canvas[y * width + x] = val;
    }
  }
}

/** Approximate distance to an axis-aligned ellipse (Quilez's first-order estimate; exact on the axes' circles). */
export function ellipse(cu: number, cv: number, ru: number, rv: number): Sdf {
  return (u, v) => {
    const x = u - cu;
    const y = v - cv;
    const k0 = Math.hypot(x / ru, y / rv);
    const k1 = Math.hypot(x / (ru * ru), y / (rv * rv));
    return k1 === 0 ? -Math.min(ru, rv) : (k0 * (k0 - 1)) / k1;
  };
}

/** A stroke of half-width `half` along the polyline through `pts` ([u0, v0, u1, v1, …]). */
export function stroke(pts: readonly number[], half: number): Sdf {
  return (u, v) => {
    let best = Infinity;
    for (let i = 0; i + 3 < pts.length; i += 2) {
      const ax = pts[i];
      const ay = pts[i + 1];
      const bx = pts[i + 2] - ax;
      const by = pts[i + 3] - ay;
      const px = u - ax;
      const py = v - ay;
      const len2 = bx * bx + by * by;
      const h = len2 === 0 ? 0 : Math.max(0, Math.min(1, (px * bx + py * by) / len2));
      const d = Math.hypot(px - h * bx, py - h * by);
      if (d < best) best = d;
    }
    return best - half;
  };
}

/** Points of the curve v = f(u) for u from u0 to u1, in `n` segments, for `stroke`. */
export function curve(f: (u: number) => number, u0: number, u1: number, n = 8): number[] {
  const pts: number[] = [];
  for (let i = 0; i <= n; i++) {
    const u = u0 + ((u1 - u0) * i) / n;
    pts.push(u, f(u));
  }
  return pts;
}

/**
 * The region between two curves over |u − cu| < half: top(u) < v < bottom(u). The distance is
 * the largest of the three one-sided gaps: not Euclidean near the corners, close enough for a
 * one-pixel edge.
 */
export function between(cu: number, half: number, top: (u: number) => number, bottom: (u: number) => number): Sdf {
  return (u, v) => Math.max(Math.abs(u - cu) - half, top(u) - v, v - bottom(u));
}

/** Inside both. */
export function intersect(a: Sdf, b: Sdf): Sdf {
  return (u, v) => Math.max(a(u, v), b(u, v));
}

/** The bounding box of a polyline, widened by `pad`. */
export function boxOf(pts: readonly number[], pad: number): [number, number, number, number] {
  let u0 = Infinity;
  let v0 = Infinity;
  let u1 = -Infinity;
  let v1 = -Infinity;
  for (let i = 0; i + 1 < pts.length; i += 2) {
    u0 = Math.min(u0, pts[i]);
    u1 = Math.max(u1, pts[i]);
    v0 = Math.min(v0, pts[i + 1]);
    v1 = Math.max(v1, pts[i + 1]);
  }
  return [u0 - pad, v0 - pad, u1 + pad, v1 + pad];
}
