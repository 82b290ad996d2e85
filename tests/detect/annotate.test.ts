import { describe, expect, it } from 'vitest';
import { annotateFaces, labelBoxes, type LabelBox } from '../../src/detect/annotate.ts';
import type { FaceEmotion } from '../../src/detect/recognize.ts';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const face = (x: number, y: number, size: number, emotion = 'happy'): FaceEmotion =>
  ({ box: { x, y, width: size, height: size }, neighbors: 5, probabilities: CLASSES.map((c) => (c === emotion ? 0.9 : 0.1 / 6)), emotion, confidence: 0.9 }) as FaceEmotion;
const overlap = (a: LabelBox, b: LabelBox) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('face labels (issue 10 item 8)', () => {
  it('on a 6000×4000 photo the letters follow the face size, not the photo size, and stay inside it', () => {
    const [big, small] = labelBoxes([face(1000, 1000, 600), face(3000, 2000, 60)], 6000, 4000);
    expect(big.scale).toBeLessThanOrEqual(4);
    expect(big.width).toBeLessThanOrEqual(600);
    expect(small.scale).toBe(1);
    for (const l of [big, small]) expect(l.x >= 0 && l.y >= 0 && l.x + l.width <= 6000 && l.y + l.height <= 4000).toBe(true);
  });

  it('crowded faces get labels that do not cover each other', () => {
    // Faces narrower than their labels, side by side, and a second row right below the first:
    // labels all placed above their boxes (as before) would cover each other.
    const faces = [face(100, 100, 40), face(140, 100, 40), face(180, 100, 40), face(100, 140, 40, 'sad'), face(140, 140, 40, 'sad')];
    const labels = labelBoxes(faces, 400, 400);
    for (let i = 0; i < labels.length; i++) for (let j = 0; j < i; j++) expect(overlap(labels[i], labels[j]), `${i} and ${j}`).toBe(false);
  });

  it('a face at the top edge gets its label below the box; the drawing uses the placed boxes', () => {
    const [l] = labelBoxes([face(10, 0, 100)], 200, 200);
    expect(l.y).toBe(100);
    const photo = { width: 200, height: 200, channels: 4 as const, data: new Uint8Array(200 * 200 * 4).fill(255) };
    const out = annotateFaces(photo, [face(10, 0, 100)], CLASSES);
    const o = 4 * ((l.y + 1) * 200 + l.x + 1);
    expect([...out.data.subarray(o, o + 3)]).toEqual([238, 180, 34]); // happy's colour: the label's panel
  });
});
