import { crop, equalizeHistogram, resize, type GrayImage } from '../image/image.ts';
import type { Sequential } from '../nn/sequential.ts';
import { classProbabilities } from '../nn/flip-average.ts';
import type { TestTime } from '../nn/test-time.ts';
import type { Cascade } from './cascade.ts';
import { detectFaces, type DetectOptions } from './detect.ts';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceEmotion {
  box: FaceBox;
  /** Detector votes for this box (0 when the whole image was taken as the face). */
  neighbors: number;
  /** One probability per class, in the model's class order. */
  probabilities: number[];
  emotion: string;
  confidence: number;
}

export const FACE_SIZE = 48;

/**
 * The network's view of a face: the box cut from the gray image, resized to 48×48, histogram-
 * equalized like the FER2013 images it was trained on, scaled to [0, 1].
 */
export function faceInput(gray: GrayImage, box: FaceBox, out = new Float32Array(FACE_SIZE * FACE_SIZE)): Float32Array {
  const face = equalizeHistogram(resize(crop(gray, box.x, box.y, box.width, box.height), FACE_SIZE, FACE_SIZE));
  for (let i = 0; i < out.length; i++) out[i] = face.data[i] / 255;
  return out;
}

/**
 * Runs the model on 48×48 inputs (one per face, already scaled) and returns class probabilities;
 * with `flip` (true or 'flip'), each averaged with its mirror image's, with 'ten-crop' over ten
 * crops (nn/test-time.ts).
 */
export async function classifyFaces(model: Sequential, inputs: Float32Array[], flip: boolean | TestTime = false): Promise<number[][]> {
  if (inputs.length === 0) return [];
  const n = inputs.length;
  const x = new Float32Array(n * FACE_SIZE * FACE_SIZE);
  inputs.forEach((f, i) => x.set(f, i * FACE_SIZE * FACE_SIZE));
  const p = await classProbabilities(model, x, n, typeof flip === 'boolean' ? { flip } : { testTime: flip });
  const k = model.classes.length;
  return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * k, (i + 1) * k)));
}

export interface RecognizeOptions {
  /** null: take the whole image as one face (for ready-made 48×48 crops). */
  cascade: Cascade | null;
  detect?: DetectOptions;
  /** Horizontal-flip test-time averaging (twice the classification work). */
  flip?: boolean;
  /** Which views to average (nn/test-time.ts); overrides `flip`. */
  testTime?: TestTime;
}

/**
 * The emotion of every face in a gray image: Viola–Jones boxes (as the original apps found
 * them with OpenCV), each cut out and classified, all faces in one batch.
 */
export async function recognizeFaces(
  model: Sequential,
  gray: GrayImage,
  opts: RecognizeOptions,
): Promise<{ faces: FaceEmotion[]; detectMs: number; classifyMs: number }> {
  const t0 = performance.now();
  const boxes = opts.cascade
    ? detectFaces(gray, opts.cascade, opts.detect).map((b) => ({ box: { x: b.x, y: b.y, width: b.width, height: b.height }, neighbors: b.neighbors }))
    : [{ box: { x: 0, y: 0, width: gray.width, height: gray.height }, neighbors: 0 }];
  const t1 = performance.now();
  const probabilities = await classifyFaces(model, boxes.map((b) => faceInput(gray, b.box)), opts.testTime ?? opts.flip ?? false);
  const faces = boxes.map((b, i) => {
    const p = probabilities[i];
    let top = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[top]) top = c;
    return { ...b, probabilities: p, emotion: model.classes[top], confidence: p[top] };
  });
  return { faces, detectMs: t1 - t0, classifyMs: performance.now() - t1 };
}
