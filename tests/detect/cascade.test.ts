import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../../src/detect/cascade-file.ts';
import { parseCascade } from '../../src/detect/cascade.ts';
import { classifyWindow, compileCascade } from '../../src/detect/evaluator.ts';
import { integral, tiltedIntegral } from '../../src/detect/integral.ts';
import { rng, TEST_SEED } from '../support/random.ts';
import { requirement } from '../support/requires.ts';

const HAVE_CASCADE = requirement(`the face cascade ${DEFAULT_CASCADE}`, existsSync(DEFAULT_CASCADE), 'apt-get install opencv-data');
const cascadeDir = DEFAULT_CASCADE.slice(0, DEFAULT_CASCADE.lastIndexOf('/'));

/** The message of the FerError `fn` throws; fails the test on anything else. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FerError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a FerError, nothing was thrown');
}

interface FeatureSpec {
  rects: [number, number, number, number, number][];
  tilted?: boolean;
}
interface TreeSpec {
  nodes: [number, number, number, number][];
  leaves: number[];
}

/** A cascade file in OpenCV's format, written out by hand. */
function cascadeXml(size: number, stages: { threshold: number; trees: TreeSpec[] }[], features: FeatureSpec[], featureType = 'HAAR'): string {
  const stageXml = stages
    .map(
      (s) => `<_><maxWeakCount>${s.trees.length}</maxWeakCount><stageThreshold>${s.threshold}</stageThreshold><weakClassifiers>${s.trees
        .map((t) => `<_><internalNodes>${t.nodes.flat().join(' ')}</internalNodes><leafValues>${t.leaves.join(' ')}</leafValues></_>`)
        .join('')}</weakClassifiers></_>`,
    )
    .join('\n');
  const featureXml = features
    .map((f) => `<_><rects>${f.rects.map((r) => `<_>${r.join(' ')}</_>`).join('')}</rects>${f.tilted ? '<tilted>1</tilted>' : ''}</_>`)
    .join('\n');
  return `<?xml version="1.0"?>
<!-- hand-made test cascade -->
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>${featureType}</featureType>
  <height>${size}</height>
  <width>${size}</width>
  <stageParams><maxWeakCount>3</maxWeakCount></stageParams>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stageNum>${stages.length}</stageNum>
  <stages>
${stageXml}
  </stages>
  <features>
${featureXml}
  </features>
</cascade>
</opencv_storage>
`;
}

/** A size×size window of random pixels whose inner (size−2)² area has σ > 12 grey levels. */
function randomWindow(size: number, seed: number): Uint8Array {
  const next = rng(seed);
  for (;;) {
    const img = Uint8Array.from({ length: size * size }, () => 1 + Math.floor(next() * 255));
    const inner: number[] = [];
    for (let y = 1; y < size - 1; y++) for (let x = 1; x < size - 1; x++) inner.push(img[y * size + x]);
    const mean = inner.reduce((a, b) => a + b, 0) / inner.length;
    if (Math.sqrt(inner.reduce((a, v) => a + (v - mean) ** 2, 0) / inner.length) > 12) return img;
  }
}

/**
 * The specification of a feature's value: Σ weight·(pixel sum of its rectangle), divided by
 * area·σ of the window shrunk by one pixel (population σ), in float64.
 */
function featureRef(img: Uint8Array, size: number, f: FeatureSpec): number {
  const inner: number[] = [];
  for (let y = 1; y < size - 1; y++) for (let x = 1; x < size - 1; x++) inner.push(img[y * size + x]);
  const n = inner.length;
  const mean = inner.reduce((a, b) => a + b, 0) / n;
  const sigma = Math.sqrt(inner.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
  let v = 0;
  for (const [x, y, w, h, weight] of f.rects) {
    let s = 0;
    for (let py = 0; py < size; py++) {
      for (let px = 0; px < size; px++) {
        // Tilted: the pixels with −1 ≤ (px−x)+(py−y) ≤ 2w−2 and 1 ≤ (py−y)−(px−x) ≤ 2h (see integral.test.ts).
        const a = px - x + (py - y);
        const b = py - y - (px - x);
        const inside = f.tilted ? a >= -1 && a <= 2 * w - 2 && b >= 1 && b <= 2 * h : px >= x && px < x + w && py >= y && py < y + h;
        if (inside) s += img[py * size + px];
      }
    }
    v += weight * s;
  }
  return v / (n * sigma);
}

function classify(xml: string, img: Uint8Array, size: number): number {
  const c = parseCascade(xml, 'test.xml');
  const stride = size + 1;
  const tables = new Int32Array(2 * stride * stride);
  const sq = new Int32Array(stride * stride);
  integral(img, size, size, stride, tables, sq);
  tiltedIntegral(img, size, size, stride, tables.subarray(stride * stride));
  return classifyWindow(compileCascade(c, stride, stride * stride), tables, sq, 0, 0);
}

describe('cascade evaluation (hand-made cascades)', () => {
  const upright: FeatureSpec = { rects: [[0, 0, 4, 8, 1], [4, 0, 4, 8, -1]] };
  const threeRects: FeatureSpec = { rects: [[0, 0, 8, 8, -1], [2, 2, 4, 4, 3], [3, 3, 2, 2, 2]] };
  const tilted: FeatureSpec = { rects: [[4, 0, 2, 2, 1], [4, 2, 2, 2, -1]], tilted: true };
  // A stump passes the stage (threshold 0) exactly when value ≥ its threshold.
  const stump = (feature: number, thr: number): TreeSpec => ({ nodes: [[0, -1, feature, thr]], leaves: [-1, 1] });

  for (const [name, f] of [['two rects', upright], ['three rects', threeRects], ['tilted', tilted]] as const) {
    it(`a stump compares the σ-normalised ${name} feature with its threshold`, () => {
      for (let k = 0; k < 5; k++) {
        const img = randomWindow(8, TEST_SEED + 10 * k);
        const v = featureRef(img, 8, f);
        // Margins far above float32 rounding (~1e-7 relative), so the decision is unambiguous.
        const margin = 1e-3 * Math.max(1, Math.abs(v));
        expect(classify(cascadeXml(8, [{ threshold: 0, trees: [stump(0, v - margin)] }], [f]), img, 8)).toBe(1);
        expect(classify(cascadeXml(8, [{ threshold: 0, trees: [stump(0, v + margin)] }], [f]), img, 8)).toBe(0);
      }
    });
  }

  it('reports the stage that rejects, and sums leaves against each stage threshold', () => {
    const img = randomWindow(8, TEST_SEED + 3);
    const v = featureRef(img, 8, upright);
    const pass = stump(0, v - 0.01);
    const fail = stump(0, v + 0.01);
    const features = [upright];
    expect(classify(cascadeXml(8, [{ threshold: 0, trees: [pass] }, { threshold: 0, trees: [pass, fail, fail] }], features), img, 8)).toBe(-1);
    expect(classify(cascadeXml(8, [{ threshold: 0, trees: [pass] }, { threshold: 0, trees: [pass] }, { threshold: 0, trees: [fail] }], features), img, 8)).toBe(-2);
    // Leaves 1 + 1 − 1 = 1 ≥ 0.5 passes; against 1.5 it does not.
    expect(classify(cascadeXml(8, [{ threshold: 0.5, trees: [pass, pass, fail] }], features), img, 8)).toBe(1);
    expect(classify(cascadeXml(8, [{ threshold: 1.5, trees: [pass, pass, fail] }], features), img, 8)).toBe(0);
  });

  it('walks deeper trees: node links > 0, leaves ≤ 0', () => {
    const img = randomWindow(8, TEST_SEED + 4);
    const va = featureRef(img, 8, upright);
    const vb = featureRef(img, 8, tilted);
    // Node 0: value < thrA → node 1, else leaf 0 (10). Node 1: value < thrB → leaf 1 (20), else leaf 2 (30).
    const tree = (thrA: number, thrB: number): TreeSpec => ({ nodes: [[1, 0, 0, thrA], [-1, -2, 1, thrB]], leaves: [10, 20, 30] });
    const run = (thrA: number, thrB: number, stageThr: number) => classify(cascadeXml(8, [{ threshold: stageThr, trees: [tree(thrA, thrB)] }], [upright, tilted]), img, 8);
    expect(run(va + 0.01, vb - 0.01, 25)).toBe(1); // leaf 2
    expect(run(va + 0.01, vb + 0.01, 25)).toBe(0); // leaf 1
    expect(run(va + 0.01, vb + 0.01, 15)).toBe(1);
    expect(run(va - 0.01, vb - 0.01, 15)).toBe(0); // leaf 0
  });

  it('skips windows too flat to classify (σ ≤ 10)', () => {
    const flat = new Uint8Array(64).fill(120);
    const xml = cascadeXml(8, [{ threshold: -100, trees: [stump(0, 0)] }], [upright]);
    expect(classify(xml, flat, 8)).toBe(-1);
    // Alternating 115/125 has σ = 5: still skipped although every stage would pass.
    expect(classify(xml, Uint8Array.from({ length: 64 }, (_, i) => (i % 2 ? 115 : 125)), 8)).toBe(-1);
  });
});

describe('parseCascade', () => {
  it.skipIf(!HAVE_CASCADE)("reads OpenCV's frontal face cascade", () => {
    const c = parseCascade(readFileSync(DEFAULT_CASCADE, 'utf8'), DEFAULT_CASCADE);
    expect([c.width, c.height, c.stages.length, c.features.length, c.maxNodesPerTree, c.hasTilted]).toEqual([24, 24, 25, 2913, 1, false]);
    expect(c.stages.map((s) => s.trees.length).reduce((a, b) => a + b, 0)).toBe(2913);
    // Stage 0 reads <stageThreshold>-5.0425500869750977e+00</stageThreshold>, less THRESHOLD_EPS in float32.
    expect(c.stages[0].threshold).toBe(Math.fround(Math.fround(-5.0425500869750977) - Math.fround(1e-5)));
    expect(c.features[0]).toEqual({ rects: [{ x: 6, y: 4, width: 12, height: 9, weight: -1 }, { x: 6, y: 7, width: 12, height: 3, weight: 3 }], tilted: false });
  });

  it.skipIf(!HAVE_CASCADE)('reads tree and tilted cascades', () => {
    const trees = loadCascadeFile(`${cascadeDir}/haarcascade_frontalface_alt2.xml`);
    expect(trees.maxNodesPerTree).toBeGreaterThan(1);
    const tilted = loadCascadeFile(`${cascadeDir}/haarcascade_eye_tree_eyeglasses.xml`);
    expect(tilted.hasTilted).toBe(true);
    expect(tilted.maxNodesPerTree).toBeGreaterThan(1);
  });

  const good = cascadeXml(8, [{ threshold: 0, trees: [{ nodes: [[0, -1, 0, 0.5]], leaves: [-1, 1] }] }], [{ rects: [[0, 0, 4, 8, 1], [4, 0, 4, 8, -1]] }]);

  it('accepts the hand-made cascade', () => {
    expect(parseCascade(good, 'good.xml').stages).toHaveLength(1);
  });

  it('rejects a truncated file, naming it', () => {
    const text = HAVE_CASCADE ? readFileSync(DEFAULT_CASCADE, 'utf8') : good;
    expect(errorOf(() => parseCascade(text.slice(0, Math.floor(text.length / 2)), 'half.xml'))).toMatch(/^half\.xml: malformed XML at line \d+: .+ \(truncated file\?\)$/);
    expect(errorOf(() => parseCascade(good.slice(0, good.indexOf('</stages>') + 3), 'cut.xml'))).toMatch(/^cut\.xml: malformed XML at line \d+: file ends inside <\/s \(truncated file\?\)$/);
    expect(errorOf(() => parseCascade(good.slice(0, good.indexOf('<features>')), 'cut2.xml'))).toMatch(/^cut2\.xml: malformed XML at line \d+: <cascade> is never closed \(truncated file\?\)$/);
    expect(errorOf(() => parseCascade('', 'empty.xml'))).toBe('empty.xml: malformed XML at line 1: no root element');
    expect(errorOf(() => parseCascade('<opencv_storage><cascade></opencv_storage>', 'x.xml'))).toMatch(/^x\.xml: malformed XML at line 1: <\/opencv_storage> closes <cascade>$/);
  });

  it('rejects a wrong featureType or stageType', () => {
    expect(errorOf(() => parseCascade(good.replace('<featureType>HAAR', '<featureType>LBP'), 'lbp.xml'))).toBe('lbp.xml: featureType LBP is not supported, wanted HAAR');
    expect(errorOf(() => parseCascade(good.replace('<stageType>BOOST', '<stageType>GENTLE'), 's.xml'))).toBe('s.xml: stageType GENTLE is not supported, wanted BOOST');
  });

  it('rejects the old format and files that are not cascades', () => {
    const old = '<?xml version="1.0"?><opencv_storage><plate type_id="opencv-haar-classifier"><size>64 16</size></plate></opencv_storage>';
    expect(errorOf(() => parseCascade(old, 'old.xml'))).toMatch(/^old\.xml: old-format cascade \(type_id="opencv-haar-classifier"\) is not supported/);
    expect(errorOf(() => parseCascade('<svg></svg>', 'pic.svg'))).toBe('pic.svg: not an OpenCV cascade file (root element <svg>, wanted <opencv_storage>)');
    expect(errorOf(() => parseCascade('<opencv_storage><model/></opencv_storage>', 'm.xml'))).toBe('m.xml: <model> has no <stageType>');
  });

  it('rejects broken structure: feature index, rectangle outside the window, leaf count, links', () => {
    expect(errorOf(() => parseCascade(good.replace('0 -1 0 0.5', '0 -1 3 0.5'), 'f.xml'))).toBe('f.xml: stage 0 weak classifier 0 node 0 uses feature 3, but there are 1');
    expect(errorOf(() => parseCascade(good.replace('4 0 4 8 -1', '5 0 4 8 -1'), 'r.xml'))).toBe('r.xml: feature 0 rect 1 (5,0 4×8) lies outside the 8×8 window');
    expect(errorOf(() => parseCascade(good.replace('-1 1</leafValues>', '-1</leafValues>'), 'l.xml'))).toBe('l.xml: stage 0 weak classifier 0 has 1 leaf values for 1 nodes, wanted 2');
    expect(errorOf(() => parseCascade(good.replace('0 -1 0 0.5', '0 1 0 0.5'), 'k.xml'))).toMatch(/^k\.xml: stage 0 weak classifier 0 node 0 links to 1, wanted a later node/);
    expect(errorOf(() => parseCascade(good.replace('0 -1 0 0.5', '0 -1 0 abc'), 'n.xml'))).toMatch(/^n\.xml: stage 0 weak classifier 0 internalNodes holds "0 -1 0 abc", wanted numbers$/);
  });

  it('loadCascadeFile names the Debian package and --cascade when the file is missing', () => {
    expect(errorOf(() => loadCascadeFile('/nonexistent/cascade.xml'))).toBe(
      'face cascade /nonexistent/cascade.xml not found: install Debian\'s opencv-data package (apt-get install opencv-data) or pass --cascade PATH',
    );
  });
});
