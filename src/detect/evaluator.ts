import type { Cascade } from './cascade.ts';

/**
 * The cascade compiled against integral tables of one row stride, as OpenCV's HaarEvaluator
 * does: every feature rectangle becomes four fixed offsets from the window's top-left table
 * entry, so a rectangle sum is four loads wherever the window sits and at every pyramid level
 * (all levels share the stride). The tilted table sits in the same buffer as the upright one,
 * `tiltedOffset` entries further on, so features of either kind read one array.
 *
 * Arithmetic follows OpenCV's types: rectangle sums are int32, a feature is
 * float32(Σ weightᵢ·sumᵢ) · float32(1/(area·σ)) in float32 steps, stage sums add float leaves
 * in double. Math.fround reproduces each float32 rounding, so borderline windows go the same
 * way as in OpenCV.
 */
export interface CompiledCascade {
  winWidth: number;
  winHeight: number;
  stride: number;
  /** Offsets of the normalisation rectangle: the window shrunk by one pixel on every side. */
  normOfs: Int32Array;
  normArea: number;
  /** 12 offsets per feature (3 rectangles × 4 corners), unused rectangles have weight 0. */
  featOfs: Int32Array;
  featWeight: Float32Array;
  stageThreshold: Float32Array;
  stageTrees: Int32Array;
  /**
   * Stump form (every tree one node), laid out per tree for the hot loop: the feature's 12
   * offsets, then [w0, w1, w2, threshold, left leaf, right leaf].
   */
  stumps: boolean;
  stumpOfs: Int32Array;
  stumpParams: Float32Array;
  /** General trees: per tree the first node and first leaf; per node its fields. */
  treeNode: Int32Array;
  treeLeaf: Int32Array;
  nodeFeature: Int32Array;
  nodeThreshold: Float32Array;
  nodeLeft: Int32Array;
  nodeRight: Int32Array;
  leaves: Float32Array;
}

export function compileCascade(c: Cascade, stride: number, tiltedOffset: number): CompiledCascade {
  const upright = (x: number, y: number, w: number, h: number) => [y * stride + x, y * stride + x + w, (y + h) * stride + x, (y + h) * stride + x + w];
  // Corners of a 45° rectangle: top, left (x−h, y+h), right (x+w, y+w), bottom (x+w−h, y+w+h).
  const tilted = (x: number, y: number, w: number, h: number) =>
    [y * stride + x, (y + h) * stride + x - h, (y + w) * stride + x + w, (y + w + h) * stride + x + w - h].map((o) => o + tiltedOffset);

  const nf = c.features.length;
  const featOfs = new Int32Array(12 * nf);
  const featWeight = new Float32Array(3 * nf);
  c.features.forEach((f, i) => {
    f.rects.forEach((r, k) => {
      featOfs.set((f.tilted ? tilted : upright)(r.x, r.y, r.width, r.height), 12 * i + 4 * k);
      featWeight[3 * i + k] = r.weight;
    });
  });

  const trees = c.stages.flatMap((s) => s.trees);
  const nodes = trees.flatMap((t) => t.nodes);
  const stumps = c.maxNodesPerTree === 1;
  const treeNode = new Int32Array(trees.length);
  const treeLeaf = new Int32Array(trees.length);
  let nNodes = 0;
  let nLeaves = 0;
  trees.forEach((t, i) => {
    treeNode[i] = nNodes;
    treeLeaf[i] = nLeaves;
    nNodes += t.nodes.length;
    nLeaves += t.leaves.length;
  });
  const norm = upright(1, 1, c.width - 2, c.height - 2);

  return {
    winWidth: c.width,
    winHeight: c.height,
    stride,
    normOfs: Int32Array.from(norm),
    normArea: (c.width - 2) * (c.height - 2),
    featOfs,
    featWeight,
    stageThreshold: Float32Array.from(c.stages, (s) => s.threshold),
    stageTrees: Int32Array.from(c.stages, (s) => s.trees.length),
    stumps,
    // OpenCV's stump form reads leaves 0 and 1; left/right name exactly those in every file
    // opencv_traincascade writes (0 and −1), and following the links keeps the meaning otherwise.
    stumpOfs: stumps ? Int32Array.from(trees.flatMap((t) => [...featOfs.subarray(12 * t.nodes[0].feature, 12 * t.nodes[0].feature + 12)])) : new Int32Array(0),
    stumpParams: stumps
      ? Float32Array.from(
          trees.flatMap((t) => {
            const n = t.nodes[0];
            return [...featWeight.subarray(3 * n.feature, 3 * n.feature + 3), n.threshold, t.leaves[-n.left], t.leaves[-n.right]];
          }),
        )
      : new Float32Array(0),
    treeNode,
    treeLeaf,
    nodeFeature: Int32Array.from(nodes, (n) => n.feature),
    nodeThreshold: Float32Array.from(nodes, (n) => n.threshold),
    nodeLeft: Int32Array.from(nodes, (n) => n.left),
    nodeRight: Int32Array.from(nodes, (n) => n.right),
    leaves: Float32Array.from(trees.flatMap((t) => t.leaves)),
  };
}

const f32 = Math.fround;

/**
 * float32 value of feature `f` for the window whose top-left table entry is `p`, times the
 * window's normalisation factor `vnf`.
 */
function featureValue(cc: CompiledCascade, tables: Int32Array, p: number, f: number, vnf: number): number {
  const o = cc.featOfs;
  const w = cc.featWeight;
  const k = 12 * f;
  const s0 = (tables[p + o[k]] - tables[p + o[k + 1]] - tables[p + o[k + 2]] + tables[p + o[k + 3]]) | 0;
  const s1 = (tables[p + o[k + 4]] - tables[p + o[k + 5]] - tables[p + o[k + 6]] + tables[p + o[k + 7]]) | 0;
  let v = f32(f32(w[3 * f] * s0) + f32(w[3 * f + 1] * s1));
  const w2 = w[3 * f + 2];
  if (w2 !== 0) {
    const s2 = (tables[p + o[k + 8]] - tables[p + o[k + 9]] - tables[p + o[k + 10]] + tables[p + o[k + 11]]) | 0;
    v = f32(v + f32(w2 * s2));
  }
  return f32(v * vnf);
}

/**
 * Classifies the window at (x, y) of one pyramid level, with OpenCV's runAt results:
 * 1 = passed every stage; −s = rejected by stage s (so 0, not −0, = by the first stage);
 * −1 also when the window is too flat to classify (σ ≤ 10 grey levels, or 0).
 * `tables` holds the level's sum (and tilted) table, `sqsum` its squared sums.
 */
export function classifyWindow(cc: CompiledCascade, tables: Int32Array, sqsum: Int32Array, x: number, y: number): number {
  const p = y * cc.stride + x;
  const n = cc.normOfs;
  const valsum = (tables[p + n[0]] - tables[p + n[1]] - tables[p + n[2]] + tables[p + n[3]]) | 0;
  const valsqsum = (sqsum[p + n[0]] - sqsum[p + n[1]] - sqsum[p + n[2]] + sqsum[p + n[3]]) >>> 0;
  const area = cc.normArea;
  let nf = area * valsqsum - valsum * valsum;
  if (!(nf > 0)) return -1;
  nf = Math.sqrt(nf);
  const vnf = f32(1 / nf);
  // area·vnf = 1/σ: OpenCV skips windows with σ ≤ 10, where the Haar features carry no signal.
  if (!(area * vnf < 0.1)) return -1;

  const nstages = cc.stageThreshold.length;
  let tree = 0;
  if (cc.stumps) {
    // featureValue inlined over the per-stump layout: this loop is nearly all of the time.
    const o = cc.stumpOfs;
    const q = cc.stumpParams;
    const stageTrees = cc.stageTrees;
    const stageThreshold = cc.stageThreshold;
    for (let s = 0; s < nstages; s++) {
      let sum = 0;
      const end = tree + stageTrees[s];
      for (; tree < end; tree++) {
        const k = 12 * tree;
        const m = 6 * tree;
        const s0 = (tables[p + o[k]] - tables[p + o[k + 1]] - tables[p + o[k + 2]] + tables[p + o[k + 3]]) | 0;
        const s1 = (tables[p + o[k + 4]] - tables[p + o[k + 5]] - tables[p + o[k + 6]] + tables[p + o[k + 7]]) | 0;
        let v = f32(f32(q[m] * s0) + f32(q[m + 1] * s1));
        const w2 = q[m + 2];
        if (w2 !== 0) {
          const s2 = (tables[p + o[k + 8]] - tables[p + o[k + 9]] - tables[p + o[k + 10]] + tables[p + o[k + 11]]) | 0;
          v = f32(v + f32(w2 * s2));
        }
        sum += f32(v * vnf) < q[m + 3] ? q[m + 4] : q[m + 5];
      }
      if (sum < stageThreshold[s]) return -s | 0;
    }
    return 1;
  }
  for (let s = 0; s < nstages; s++) {
    let sum = 0;
    const end = tree + cc.stageTrees[s];
    for (; tree < end; tree++) {
      const root = cc.treeNode[tree];
      let idx = 0;
      do {
        const node = root + idx;
        const v = featureValue(cc, tables, p, cc.nodeFeature[node], vnf);
        idx = v < cc.nodeThreshold[node] ? cc.nodeLeft[node] : cc.nodeRight[node];
      } while (idx > 0);
      sum += cc.leaves[cc.treeLeaf[tree] - idx];
    }
    if (sum < cc.stageThreshold[s]) return -s | 0;
  }
  return 1;
}
