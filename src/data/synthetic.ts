import { FerError } from '../backend/errors.ts';
import { mixSeed, Random } from '../backend/random.ts';
import { IMAGE_SIZE, PIXELS, type Dataset } from './dataset.ts';
import { NUM_CLASSES } from './emotions.ts';
import { between, boxOf, curve, ellipse, intersect, paint, stroke, type Layer, type Sdf } from './raster.ts';

export interface SyntheticOptions {
  count: number;
  seed: number;
  /**
   * Scales the geometric variation (face position, size, aspect, tilt, turn, feature placement,
   * expression strength): 1, the default, for training; 0 draws every face in the same pose,
   * which tests use to see the expressions themselves. Tones, lighting and noise always vary.
   */
  variation?: number;
}

/**
 * Drawn 48×48 faces, balanced over the seven expressions: the training set that needs no
 * download, for checking the pipeline end to end. Each expression has its own geometry (the
 * brows' slant and height, how open the eyes are, the mouth's shape, nose wrinkles), drawn at a
 * random strength and varied in everything that is not expression: face position, size,
 * aspect, tilt, turn, hair, skin and background tones, lighting, contrast and noise. Image i
 * is drawn from its own generator, seeded by (seed, i); the labels come in shuffled order.
 */
export function syntheticFaces({ count, seed, variation = 1 }: SyntheticOptions): Dataset {
  if (!Number.isInteger(count) || count < 1) throw new FerError(`syntheticFaces: count is ${count}, want a positive integer`);
  if (!Number.isInteger(seed)) throw new FerError(`syntheticFaces: seed is ${seed}, want an integer`);
  if (!(variation >= 0 && variation <= 1)) throw new FerError(`syntheticFaces: variation is ${variation}, want a number from 0 to 1`);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % NUM_CLASSES;
  const order = new Random(mixSeed(seed, 0x0bde));
  for (let i = count - 1; i > 0; i--) {
    const j = order.int(i + 1);
    const t = labels[i];
    labels[i] = labels[j];
    labels[j] = t;
  }
  const images = new Uint8Array(count * PIXELS);
  for (let i = 0; i < count; i++) images.set(renderFace(labels[i], new Random(mixSeed(seed, i, 0xface)), variation), i * PIXELS);
  return { images, labels, count };
}

/**
 * The expression geometry, in face units: the face is an ellipse of half-width 1 and
 * half-height `aspect` (about 1.25) centred at 0, u to the right, v down.
 */
interface Expression {
  /** Brow ends: inner (near the nose) and outer heights, and how much the middle bows up. */
  browInner: number;
  browOuter: number;
  browArch: number;
  browInnerU: number;
  browHalf: number;
  /** Extra lowering of one brow (the sneer's side). */
  browAsym: number;
  /** Eye half-height: 0.04 a slit, 0.085 relaxed, 0.14 wide with white above the iris. */
  eyeOpen: number;
  /** Upper-lid tilt: > 0 covers the inner corner (glare), < 0 the outer (droop). */
  lidSlant: number;
  /** Lower lid pushed up by raised cheeks (a real smile). */
  cheekRaise: number;
  mouth: 'line' | 'grin' | 'oval' | 'stretch' | 'clench' | 'sneer';
  /** Mouth half-width, and how far its middle sits below its corners (< 0: corners down). */
  mouthHalf: number;
  mouthBend: number;
  /** How far the mouth opens (cavity height), for the open shapes. */
  mouthOpen: number;
  noseWrinkle: number;
  /** Darkness of the nose-to-mouth folds. */
  folds: number;
}

/** The eye height the brow heights are given against; each face moves its eyes and brows together. */
const EYE_V = -0.22;

const NEUTRAL: Expression = {
  browInner: -0.47,
  browOuter: -0.47,
  browArch: 0.04,
  browInnerU: 0.14,
  browHalf: 0.06,
  browAsym: 0,
  eyeOpen: 0.085,
  lidSlant: 0,
  cheekRaise: 0,
  mouth: 'line',
  mouthHalf: 0.27,
  mouthBend: 0,
  mouthOpen: 0,
  noseWrinkle: 0,
  folds: 0,
};

/** Indexed like EMOTIONS: angry, disgust, fear, happy, sad, surprise, neutral. */
const EXPRESSIONS: ReadonlyArray<(rng: Random) => Expression> = [
  (rng) => ({
    ...NEUTRAL,
    browInner: -0.31,
    browOuter: -0.58,
    browArch: -0.02,
    browInnerU: 0.09,
    browHalf: 0.07,
    eyeOpen: 0.065,
    lidSlant: 0.25,
    mouth: rng.next() < 0.5 ? 'line' : 'clench',
    mouthHalf: 0.25,
    mouthBend: -0.05,
    mouthOpen: 0.12,
    folds: 0.3,
  }),
  (rng) => ({
    ...NEUTRAL,
    browInner: -0.37,
    browOuter: -0.41,
    browArch: -0.02,
    browInnerU: 0.12,
    browHalf: 0.07,
    browAsym: 0.07,
    eyeOpen: 0.045,
    lidSlant: 0.1,
    cheekRaise: 0.4,
    mouth: 'sneer',
    mouthHalf: 0.27,
    mouthBend: -0.04,
    mouthOpen: 0.06,
    noseWrinkle: 1,
    folds: 0.8,
  }),
  (rng) => ({
    ...NEUTRAL,
    browInner: -0.66,
    browOuter: -0.52,
    browArch: -0.01,
    browInnerU: 0.12,
    eyeOpen: 0.135,
    lidSlant: -0.05,
    mouth: 'stretch',
    mouthHalf: 0.34 + 0.04 * rng.next(),
    mouthBend: -0.05,
    mouthOpen: 0.14,
    folds: 0.2,
  }),
  (rng) => ({
    ...NEUTRAL,
    browInner: -0.5,
    browOuter: -0.5,
    browArch: 0.07,
    eyeOpen: 0.06,
    cheekRaise: 1,
    mouth: rng.next() < 0.5 ? 'line' : 'grin',
    mouthHalf: 0.37,
    mouthBend: 0.13,
    mouthOpen: 0.2,
    folds: 0.45,
  }),
  () => ({
    ...NEUTRAL,
    browInner: -0.62,
    browOuter: -0.4,
    browArch: -0.03,
    eyeOpen: 0.07,
    lidSlant: -0.3,
    mouth: 'line',
    mouthHalf: 0.28,
    mouthBend: -0.13,
  }),
  () => ({
    ...NEUTRAL,
    browInner: -0.72,
    browOuter: -0.64,
    browArch: 0.13,
    eyeOpen: 0.145,
    mouth: 'oval',
    mouthHalf: 0.13,
    mouthOpen: 0.21,
  }),
  () => ({ ...NEUTRAL }),
];

/** Moves each continuous feature a fraction `t` of the way from neutral, then jitters it. */
function blend(e: Expression, t: number, rng: Random, variation: number): Expression {
  const out = { ...e };
  for (const k of Object.keys(NEUTRAL) as Array<keyof Expression>) {
    const a = NEUTRAL[k];
    const b = e[k];
    if (typeof a === 'number' && typeof b === 'number') (out[k] as number) = a + (b - a) * t;
  }
  const v = variation;
  out.browInner += v * 0.02 * rng.normal();
  out.browOuter += v * 0.02 * rng.normal();
  out.eyeOpen = Math.max(0.035, out.eyeOpen * (1 + v * 0.08 * rng.normal()));
  out.mouthHalf *= 1 + v * 0.06 * rng.normal();
  out.mouthBend += v * 0.012 * rng.normal();
  return out;
}

/** One face with expression `label`, as 48×48 bytes; all randomness from `rng`. */
export function renderFace(label: number, rng: Random, variation = 1): Uint8Array {
  if (!Number.isInteger(label) || label < 0 || label >= NUM_CLASSES) throw new FerError(`renderFace: label ${label}, want 0–${NUM_CLASSES - 1}`);
  // Every draw happens whatever the variation, so variation only scales what is drawn.
  const jitter = (mid: number, half: number): number => mid + variation * rng.uniform(-half, half);
  const e = blend(EXPRESSIONS[label](rng), jitter(0.85, 0.2), rng, variation);
  const look = drawLook(rng, jitter);
  const canvas = new Float32Array(PIXELS);
  background(canvas, look, rng);
  const frame = {
    cx: jitter(IMAGE_SIZE / 2, 3),
    cy: jitter(IMAGE_SIZE / 2 + 1.5, 3),
    scale: jitter(16.5, 2),
    angle: (jitter(0, 10) * Math.PI) / 180,
  };
  paint(canvas, IMAGE_SIZE, frame, [...head(look), ...features(e, look, rng)]);
  return finish(canvas, rng);
}

/** Everything about a face that is not its expression. */
interface Look {
  aspect: number;
  skin: number;
  bg: number;
  hair: number;
  hairStyle: number;
  /** Features shifted sideways by a slight turn of the head. */
  turn: number;
  eyeV: number;
  mouthV: number;
  gaze: number;
}

function drawLook(rng: Random, jitter: (mid: number, half: number) => number): Look {
  const skin = rng.uniform(95, 215);
  let bg = rng.uniform(15, 240);
  if (Math.abs(bg - skin) < 35) bg = skin + (bg < skin ? -35 : 35);
  const darkHair = rng.next() < 0.8;
  return {
    aspect: jitter(1.25, 0.1),
    skin,
    bg: Math.min(250, Math.max(5, bg)),
    hair: darkHair ? rng.uniform(10, 0.55 * skin) : Math.min(245, skin + rng.uniform(20, 60)),
    hairStyle: rng.int(3),
    turn: jitter(0, 0.07),
    eyeV: jitter(EYE_V, 0.05),
    mouthV: jitter(0.63, 0.05),
    gaze: jitter(0, 0.03),
  };
}

/** Flat background with a soft blob or two of clutter. */
function background(canvas: Float32Array, look: Look, rng: Random): void {
  canvas.fill(look.bg);
  const blobs = rng.int(3);
  const layers: Layer[] = [];
  for (let i = 0; i < blobs; i++) {
    const cu = rng.uniform(-1.4, 1.4);
    const cv = rng.uniform(-1.4, 1.4);
    const r = rng.uniform(0.3, 0.9);
    layers.push({ sd: ellipse(cu, cv, r, r * rng.uniform(0.5, 1.5)), tone: look.bg + rng.uniform(-60, 60), box: [cu - 1.5 * r, cv - 1.5 * r, cu + 1.5 * r, cv + 1.5 * r], soft: 6, opacity: 0.6 });
  }
  paint(canvas, IMAGE_SIZE, { cx: IMAGE_SIZE / 2, cy: IMAGE_SIZE / 2, scale: IMAGE_SIZE / 3, angle: 0 }, layers);
}

/** Hair, neck, ears and the shaded face oval. */
function head(look: Look): Layer[] {
  const A = look.aspect;
  const skin = look.skin;
  const layers: Layer[] = [];
  if (look.hairStyle === 2) layers.push({ sd: ellipse(0, 0.15, 1.3, A * 1.15), tone: look.hair, box: [-1.3, 0.15 - 1.15 * A, 1.3, 0.15 + 1.15 * A] });
  if (look.hairStyle > 0) layers.push({ sd: ellipse(0, -0.3, 1.15, A * 0.95), tone: look.hair, box: [-1.2, -0.3 - A, 1.2, 0.7 * A] });
  layers.push({ sd: between(0, 0.5, () => 0.5 * A, () => 4), tone: skin * 0.82, box: [-0.5, 0.5 * A, 0.5, 4] });
  for (const side of [-1, 1]) layers.push({ sd: ellipse(side * 0.98, -0.02, 0.13, 0.24), tone: skin * 0.9, box: [side * 0.98 - 0.13, -0.26, side * 0.98 + 0.13, 0.22] });
  layers.push({
    sd: ellipse(0, 0, 1, A),
    tone: (u, v) => skin * (1 - 0.25 * Math.pow(Math.min(1, u * u + (v * v) / (A * A)), 1.5)),
    box: [-1, -A, 1, A],
  });
  if (look.hairStyle > 0) {
    const line = -A * 0.7 + 0.05 * look.turn;
    layers.push({ sd: intersect(ellipse(0, 0, 1.02, A * 1.02), (u, v) => v - (line + 0.25 * u * u)), tone: look.hair, box: [-1.05, -A * 1.05, 1.05, line + 0.3] });
  }
  return layers;
}

/** Brows, eyes, nose and mouth for expression `e`. */
function features(e: Expression, look: Look, rng: Random): Layer[] {
  const skin = look.skin;
  const dark = skin * 0.28;
  const c = look.turn;
  const layers: Layer[] = [];
  const sneerSide = rng.next() < 0.5 ? -1 : 1;

  for (const side of [-1, 1]) {
    const eu = c + side * 0.37;
    const ev = look.eyeV;
    const rx = 0.19;
    const ry = e.eyeOpen;
    // Inward coordinate: > 0 toward the nose.
    const w = (u: number): number => (eu - u) * side;
    const lid = (u: number): number => ev - ry * 1.02 + e.lidSlant * (w(u) + rx) * 0.5;
    layers.push({ sd: ellipse(eu, ev - 0.02, rx * 1.35, 0.16), tone: skin * 0.8, box: [eu - 0.3, ev - 0.2, eu + 0.3, ev + 0.16], soft: 3, opacity: 0.6 });
    const white: Sdf = intersect(ellipse(eu, ev, rx, ry), (u, v) => lid(u) - v);
    layers.push({ sd: white, tone: Math.min(250, skin * 1.12 + 10), box: [eu - rx, ev - ry, eu + rx, ev + ry] });
    const ir = 0.085;
    layers.push({ sd: intersect(ellipse(eu + look.gaze, ev + 0.01, ir, ir), white), tone: dark * 0.7, box: [eu - rx, ev - ry, eu + rx, ev + ry] });
    const upper = curve((u) => Math.max(ev - ry * Math.sqrt(Math.max(0, 1 - ((u - eu) / rx) ** 2)), lid(u)), eu - rx, eu + rx, 8);
    layers.push({ sd: stroke(upper, 0.028), tone: dark * 0.6, box: boxOf(upper, 0.03) });
    if (e.cheekRaise > 0) {
      const lower = curve((u) => ev + ry + 0.05 - 0.06 * e.cheekRaise * (1 - ((u - eu) / rx) ** 2), eu - rx * 0.9, eu + rx * 0.9, 6);
      layers.push({ sd: stroke(lower, 0.022), tone: skin * 0.55, box: boxOf(lower, 0.03), opacity: Math.min(1, e.cheekRaise) });
    }
    // Brow: from the inner end out, bowed up in the middle by browArch.
    const lower = side === sneerSide ? e.browAsym : 0;
    const bu0 = c + side * e.browInnerU;
    const bu1 = c + side * 0.64;
    const brow = curve(
      (u) => {
        const t = (u - bu0) / (bu1 - bu0);
        return ev + (e.browInner - EYE_V) * (1 - t) + (e.browOuter - EYE_V) * t - e.browArch * 4 * t * (1 - t) + lower;
      },
      bu0,
      bu1,
      8,
    );
    layers.push({ sd: stroke(brow, e.browHalf), tone: Math.min(look.hair, skin * 0.45), box: boxOf(brow, e.browHalf) });
  }

  // Nose: a shaded ridge, the tip and nostrils; disgust adds wrinkles and flares them.
  const nv = 0.32;
  layers.push({ sd: stroke([c, -0.12, c + 0.03, nv - 0.05], 0.02), tone: skin * 0.78, box: [c - 0.05, -0.15, c + 0.08, nv], soft: 2.5, opacity: 0.8 });
  layers.push({ sd: ellipse(c, nv - 0.02, 0.15, 0.07), tone: skin * 0.75, box: [c - 0.16, nv - 0.1, c + 0.16, nv + 0.06], soft: 2.5, opacity: 0.7 });
  const flare = 1 + 0.5 * e.noseWrinkle;
  for (const side of [-1, 1]) {
    layers.push({ sd: ellipse(c + side * 0.075 * flare, nv - 0.03 * e.noseWrinkle, 0.04 * flare, 0.024 * flare), tone: dark, box: [c - 0.2, nv - 0.1, c + 0.2, nv + 0.05] });
  }
  if (e.noseWrinkle > 0) {
    for (const wv of [-0.1, 0.03]) {
      const line = curve((u) => wv - 0.5 * (u - c) ** 2, c - 0.14, c + 0.14, 4);
      layers.push({ sd: stroke(line, 0.025), tone: skin * 0.5, box: boxOf(line, 0.03), opacity: e.noseWrinkle });
    }
  }
  if (e.folds > 0) {
    for (const side of [-1, 1]) {
      const fold = curve((u) => nv + 0.02 + 2.2 * (Math.abs(u - c) - 0.17) ** 2 * 2 + 0.3 * (Math.abs(u - c) - 0.17), c + side * 0.17, c + side * 0.36, 5);
      layers.push({ sd: stroke(fold, 0.025), tone: skin * 0.6, box: boxOf(fold, 0.03), opacity: e.folds, soft: 1.5 });
    }
  }

  layers.push(...mouth(e, look, c, sneerSide));
  return layers;
}

function mouth(e: Expression, look: Look, c: number, sneerSide: number): Layer[] {
  const skin = look.skin;
  const lips = skin * 0.55;
  const cavity = skin * 0.18;
  const teeth = Math.min(245, skin * 1.1 + 15);
  const mv = look.mouthV;
  const hw = e.mouthHalf;
  const q = (u: number): number => Math.min(1, Math.abs(u - c) / hw);
  const box: [number, number, number, number] = [c - hw - 0.05, mv - 0.3, c + hw + 0.05, mv + 0.35];
  switch (e.mouth) {
    case 'line': {
      const line = curve((u) => mv + e.mouthBend * (1 - q(u) ** 2), c - hw, c + hw, 10);
      return [{ sd: stroke(line, 0.038), tone: lips, box: boxOf(line, 0.05) }];
    }
    case 'grin': {
      const top = (u: number): number => mv - 0.03 + 0.05 * (1 - q(u) ** 2);
      const bottom = (u: number): number => mv + (e.mouthBend + e.mouthOpen * 0.6) * (1 - q(u) ** 2) - 0.01;
      const hole = between(c, hw, top, bottom);
      const lower = curve(bottom, c - hw, c + hw, 10);
      return [
        { sd: hole, tone: cavity, box },
        { sd: intersect(hole, (u, v) => v - top(u) - 0.07), tone: teeth, box },
        { sd: stroke(lower, 0.03), tone: lips, box },
      ];
    }
    case 'oval': {
      const ry = e.mouthOpen;
      return [
        { sd: ellipse(c, mv + 0.03, hw + 0.045, ry + 0.045), tone: lips, box },
        { sd: ellipse(c, mv + 0.03, hw, ry), tone: cavity, box },
      ];
    }
    case 'stretch': {
      const h = e.mouthOpen / 2;
      const top = (u: number): number => mv - h * (1 - 0.6 * q(u) ** 4) - e.mouthBend * q(u) ** 2;
      const bottom = (u: number): number => mv + h * (1 - 0.6 * q(u) ** 4) - e.mouthBend * q(u) ** 2;
      const hole = between(c, hw, top, bottom);
      return [
        { sd: between(c, hw + 0.04, (u) => top(u) - 0.04, (u) => bottom(u) + 0.04), tone: lips, box },
        { sd: hole, tone: cavity, box },
        { sd: intersect(hole, (u, v) => v - top(u) - 0.045), tone: teeth, box },
      ];
    }
    case 'clench': {
      const h = e.mouthOpen / 2;
      const top = (u: number): number => mv - h * (1 - 0.5 * q(u) ** 6) + 0.02 * q(u) ** 2;
      const bottom = (u: number): number => mv + h * (1 - 0.5 * q(u) ** 6) + 0.02 * q(u) ** 2;
      const mid = curve((u) => mv + 0.02 * q(u) ** 2, c - hw * 0.9, c + hw * 0.9, 6);
      return [
        { sd: between(c, hw + 0.04, (u) => top(u) - 0.035, (u) => bottom(u) + 0.035), tone: lips, box },
        { sd: between(c, hw, top, bottom), tone: teeth, box },
        { sd: stroke(mid, 0.018), tone: cavity, box },
      ];
    }
    case 'sneer': {
      // One corner pulled up and out, the upper lip lifted on that side to bare a gap.
      const lift = (u: number): number => Math.max(0, ((u - c) * sneerSide) / hw) ** 1.3;
      const upper = (u: number): number => mv + 0.02 - 0.11 * lift(u) + (1 - lift(u)) * -e.mouthBend * q(u) ** 2;
      const lowerLip = (u: number): number => mv + 0.03 + -e.mouthBend * q(u) ** 2;
      const line = curve(upper, c - hw, c + hw, 10);
      const gap = between(c + (sneerSide * hw) / 2, hw / 2, upper, lowerLip);
      return [
        { sd: gap, tone: cavity, box },
        { sd: stroke(line, 0.035), tone: lips, box: boxOf(line, 0.05) },
        { sd: stroke(curve(lowerLip, c - hw * 0.2 * sneerSide, c + hw * sneerSide, 6), 0.03), tone: lips, box },
      ];
    }
  }
}

/** Lighting gradient, contrast, a touch of blur, sensor noise; then to bytes. */
function finish(canvas: Float32Array, rng: Random): Uint8Array {
  const n = IMAGE_SIZE;
  const g = rng.uniform(0, 0.45);
  const dir = rng.uniform(0, 2 * Math.PI);
  const gx = (Math.cos(dir) * g) / (n / 2);
  const gy = (Math.sin(dir) * g) / (n / 2);
  let mean = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      canvas[i] *= 1 + gx * (x - n / 2) + gy * (y - n / 2);
      mean += canvas[i];
    }
  }
  mean /= PIXELS;
  const contrast = rng.uniform(0.7, 1.15);
  const blur = rng.uniform(0, 0.5);
  const noise = rng.uniform(1, 7);
  const out = new Uint8Array(PIXELS);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      const near = (canvas[i - (x > 0 ? 1 : 0)] + canvas[i + (x < n - 1 ? 1 : 0)] + canvas[i - (y > 0 ? n : 0)] + canvas[i + (y < n - 1 ? n : 0)]) / 4;
      const v = canvas[i] + blur * (near - canvas[i]);
      out[i] = Math.max(0, Math.min(255, Math.round(mean + (v - mean) * contrast + noise * rng.normal())));
    }
  }
  return out;
}
