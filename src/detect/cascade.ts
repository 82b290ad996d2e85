import { FerError } from '../backend/errors.ts';
import { child, parseXml, type XmlElement } from './xml.ts';

/**
 * A boosted Haar cascade as OpenCV stores it (`<cascade type_id="opencv-cascade-classifier">`,
 * written by opencv_traincascade and shipped in Debian's opencv-data).
 *
 * A window passes stage s when the sum of its weak classifiers' leaf values reaches the stage
 * threshold; it is a detection when it passes every stage. A weak classifier is a small
 * decision tree (mostly a single-node stump) whose nodes compare one Haar feature, normalised
 * by the window's standard deviation, with a threshold.
 *
 * Numbers are kept as float32 (Math.fround), as OpenCV reads them into floats.
 */
export interface HaarRect {
  x: number;
  y: number;
  width: number;
  height: number;
  weight: number;
}

export interface HaarFeature {
  /** Two or three weighted rectangles in window coordinates. */
  rects: HaarRect[];
  /** Rectangles rotated by 45°: (x, y) is the top corner, width runs down-right, height down-left. */
  tilted: boolean;
}

/** `left`/`right` > 0 name another node of the tree; ≤ 0 name leaf −value. */
export interface TreeNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
}

export interface WeakTree {
  nodes: TreeNode[];
  leaves: number[];
}

export interface Stage {
  /** The file's stageThreshold less OpenCV's THRESHOLD_EPS (1e-5), in float32. */
  threshold: number;
  trees: WeakTree[];
}

export interface Cascade {
  source: string;
  /** The training window, e.g. 24×24. */
  width: number;
  height: number;
  stages: Stage[];
  features: HaarFeature[];
  maxNodesPerTree: number;
  hasTilted: boolean;
}

const f32 = Math.fround;
const THRESHOLD_EPS = f32(1e-5);

/** Parses the text of an OpenCV cascade XML file; any problem is a one-line FerError naming `source`. */
export function parseCascade(xml: string, source: string): Cascade {
  const fail = (what: string): never => {
    throw new FerError(`${source}: ${what}`);
  };
  const storage = parseXml(xml, source);
  if (storage.name !== 'opencv_storage') fail(`not an OpenCV cascade file (root element <${storage.name}>, wanted <opencv_storage>)`);
  const top = storage.children[0];
  if (!top) fail('empty <opencv_storage>, wanted a <cascade> element');
  if (top.attrs.type_id === 'opencv-haar-classifier') {
    fail('old-format cascade (type_id="opencv-haar-classifier") is not supported; wanted type_id="opencv-cascade-classifier" as written by opencv_traincascade');
  }

  const field = (el: XmlElement, name: string, where: string): XmlElement => child(el, name) ?? fail(`${where} has no <${name}>`);
  const text = (el: XmlElement, name: string, where: string): string => field(el, name, where).text.trim();
  const numbers = (el: XmlElement, where: string): number[] => {
    const t = el.text.trim();
    const v = t === '' ? [] : t.split(/\s+/).map(Number);
    if (v.some((n) => !Number.isFinite(n))) fail(`${where} holds "${t.slice(0, 40)}", wanted numbers`);
    return v;
  };
  const int = (el: XmlElement, name: string, where: string): number => {
    const v = Number(text(el, name, where));
    if (!Number.isInteger(v) || v <= 0) fail(`${where} <${name}> is "${text(el, name, where)}", wanted a positive integer`);
    return v;
  };

  const stageType = text(top, 'stageType', `<${top.name}>`);
  if (stageType !== 'BOOST') fail(`stageType ${stageType} is not supported, wanted BOOST`);
  const featureType = text(top, 'featureType', `<${top.name}>`);
  if (featureType !== 'HAAR') fail(`featureType ${featureType} is not supported, wanted HAAR`);
  const width = int(top, 'width', `<${top.name}>`);
  const height = int(top, 'height', `<${top.name}>`);
  const maxCat = Number(text(field(top, 'featureParams', `<${top.name}>`), 'maxCatCount', '<featureParams>'));
  if (maxCat !== 0) fail(`maxCatCount ${maxCat} (categorical features) is not supported for HAAR, wanted 0`);

  const features: HaarFeature[] = field(top, 'features', `<${top.name}>`).children.map((f, fi) => {
    const where = `feature ${fi}`;
    const rects = field(f, 'rects', where).children.map((r, ri) => {
      const v = numbers(r, `${where} rect ${ri}`);
      if (v.length !== 5 || !v.slice(0, 4).every(Number.isInteger)) fail(`${where} rect ${ri} has ${v.length} numbers, wanted x y width height weight`);
      return { x: v[0], y: v[1], width: v[2], height: v[3], weight: f32(v[4]) };
    });
    if (rects.length < 2 || rects.length > 3) fail(`${where} has ${rects.length} rectangles, wanted 2 or 3`);
    const t = child(f, 'tilted');
    const tilted = t !== undefined && Number(t.text.trim()) !== 0;
    for (const [ri, r] of rects.entries()) {
      const inside = tilted
        ? r.x - r.height >= 0 && r.x + r.width <= width && r.y >= 0 && r.y + r.width + r.height <= height
        : r.x >= 0 && r.y >= 0 && r.x + r.width <= width && r.y + r.height <= height;
      if (r.width <= 0 || r.height <= 0 || !inside) {
        fail(`${where} rect ${ri} (${r.x},${r.y} ${r.width}×${r.height}${tilted ? ' tilted' : ''}) lies outside the ${width}×${height} window`);
      }
    }
    return { rects, tilted };
  });
  if (features.length === 0) fail('<features> is empty');

  let maxNodesPerTree = 0;
  const stageEls = field(top, 'stages', `<${top.name}>`).children;
  if (stageEls.length === 0) fail('<stages> is empty');
  const stages: Stage[] = stageEls.map((s, si) => {
    const thr = Number(text(s, 'stageThreshold', `stage ${si}`));
    if (!Number.isFinite(thr)) fail(`stage ${si} stageThreshold is not a number`);
    const weak = field(s, 'weakClassifiers', `stage ${si}`).children;
    if (weak.length === 0) fail(`stage ${si} has no weak classifiers`);
    const trees = weak.map((w, wi) => {
      const where = `stage ${si} weak classifier ${wi}`;
      const raw = numbers(field(w, 'internalNodes', where), `${where} internalNodes`);
      const leaves = numbers(field(w, 'leafValues', where), `${where} leafValues`).map(f32);
      if (raw.length === 0 || raw.length % 4 !== 0) fail(`${where} has ${raw.length} internalNodes numbers, wanted 4 per node`);
      const n = raw.length / 4;
      if (leaves.length !== n + 1) fail(`${where} has ${leaves.length} leaf values for ${n} nodes, wanted ${n + 1}`);
      const nodes: TreeNode[] = [];
      for (let k = 0; k < n; k++) {
        const [left, right, feature, threshold] = raw.slice(4 * k, 4 * k + 4);
        if (!Number.isInteger(feature) || feature < 0 || feature >= features.length) fail(`${where} node ${k} uses feature ${feature}, but there are ${features.length}`);
        for (const next of [left, right]) {
          // Children come after their parent, so evaluation always terminates.
          const ok = Number.isInteger(next) && (next > 0 ? next > k && next < n : -next <= n);
          if (!ok) fail(`${where} node ${k} links to ${next}, wanted a later node (1..${n - 1}) or a leaf (0..-${n})`);
        }
        nodes.push({ feature, threshold: f32(threshold), left, right });
      }
      maxNodesPerTree = Math.max(maxNodesPerTree, n);
      return { nodes, leaves };
    });
    return { threshold: f32(f32(thr) - THRESHOLD_EPS), trees };
  });

  return { source, width, height, stages, features, maxNodesPerTree, hasTilted: features.some((f) => f.tilted) };
}
