import { cvRound } from './cv-round.ts';

/**
 * OpenCV's groupRectangles: merges the many overlapping windows a detector fires on around
 * one object into a single box.
 *
 * 1. Two rectangles are similar when every edge of one lies within
 *    δ = eps · (min(w₁, w₂) + min(h₁, h₂)) / 2 of the same edge of the other; clusters are
 *    the connected components of that relation (cv::partition).
 * 2. Each cluster becomes the average of its rectangles (rounded like OpenCV, via float32).
 * 3. Clusters with `groupThreshold` or fewer members are dropped.
 * 4. A cluster lying inside another (within eps of its size) is dropped when the other has
 *    more than max(3, n) members, or when it has fewer than 3 itself.
 *
 * With groupThreshold ≤ 0 the rectangles come back unchanged, each with 1 neighbour.
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GroupedRect extends Rect {
  /** How many raw rectangles the cluster had. */
  neighbors: number;
}

export function similarRects(a: Rect, b: Rect, eps: number): boolean {
  const delta = eps * (Math.min(a.width, b.width) + Math.min(a.height, b.height)) * 0.5;
  return (
    Math.abs(a.x - b.x) <= delta &&
    Math.abs(a.y - b.y) <= delta &&
    Math.abs(a.x + a.width - b.x - b.width) <= delta &&
    Math.abs(a.y + a.height - b.y - b.height) <= delta
  );
}

/** Cluster label per rectangle, numbered in order of first appearance (as cv::partition). */
export function partition(rects: Rect[], eps: number): { labels: Int32Array; count: number } {
  const n = rects.length;
  const parent = new Int32Array(n).map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (!similarRects(rects[i], rects[j], eps)) continue;
      const a = find(i);
      const b = find(j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const labels = new Int32Array(n);
  const labelOfRoot = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let label = labelOfRoot.get(root);
    if (label === undefined) {
      label = labelOfRoot.size;
      labelOfRoot.set(root, label);
    }
    labels[i] = label;
  }
  return { labels, count: labelOfRoot.size };
}

export function groupRectangles(rects: Rect[], groupThreshold: number, eps = 0.2): GroupedRect[] {
  if (groupThreshold <= 0 || rects.length === 0) return rects.map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height, neighbors: 1 }));

  const { labels, count } = partition(rects, eps);
  const sums = Array.from({ length: count }, () => ({ x: 0, y: 0, width: 0, height: 0, n: 0 }));
  rects.forEach((r, i) => {
    const s = sums[labels[i]];
    s.x += r.x;
    s.y += r.y;
    s.width += r.width;
    s.height += r.height;
    s.n++;
  });
  // OpenCV averages as int · float(1/n), rounded to nearest-even.
  const f32 = Math.fround;
  const avg = sums.map((s) => {
    const inv = f32(1 / s.n);
    const mean = (v: number) => cvRound(f32(f32(v) * inv));
    return { x: mean(s.x), y: mean(s.y), width: mean(s.width), height: mean(s.height), neighbors: s.n };
  });

  const out: GroupedRect[] = [];
  for (let i = 0; i < count; i++) {
    const r1 = avg[i];
    const n1 = r1.neighbors;
    if (n1 <= groupThreshold) continue;
    const swallowed = avg.some((r2, j) => {
      const n2 = r2.neighbors;
      if (j === i || n2 <= groupThreshold) return false;
      const dx = cvRound(r2.width * eps);
      const dy = cvRound(r2.height * eps);
      return (
        r1.x >= r2.x - dx &&
        r1.y >= r2.y - dy &&
        r1.x + r1.width <= r2.x + r2.width + dx &&
        r1.y + r1.height <= r2.y + r2.height + dy &&
        (n2 > Math.max(3, n1) || n1 < 3)
      );
    });
    if (!swallowed) out.push(r1);
  }
  return out;
}
