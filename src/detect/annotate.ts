import { Canvas, textWidth, type Color } from '../image/canvas.ts';
import type { Image } from '../image/image.ts';
import type { FaceEmotion } from './recognize.ts';

/** One colour per emotion, in FER2013 label order (angry … neutral). */
export const EMOTION_COLORS: readonly Color[] = [
  [220, 50, 47],
  [133, 153, 0],
  [108, 113, 196],
  [238, 180, 34],
  [38, 139, 210],
  [211, 54, 130],
  [147, 161, 161],
];

export interface LabelBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Font scale: the label is at most as wide as its face box (1 to 4). */
  scale: number;
  text: string;
}

const overlaps = (a: LabelBox, b: LabelBox) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Where each face's label goes. Its size follows the face, not the photo (a 6000×4000 photo
 * gave 144-pixel letters); it goes above the box, else below, else inside its top, taking the
 * first place inside the photo that no earlier label covers (crowded photos).
 */
export function labelBoxes(faces: readonly FaceEmotion[], width: number, height: number): LabelBox[] {
  const placed: LabelBox[] = [];
  for (const f of faces) {
    const text = `${f.emotion} ${(100 * f.confidence).toFixed(0)}%`;
    const { x, y, width: bw, height: bh } = f.box;
    const scale = Math.max(1, Math.min(4, Math.floor(bw / (textWidth(text) + 6))));
    const w = textWidth(text, scale) + 6;
    const h = 9 * scale + 6;
    const lx = Math.max(0, Math.min(x, width - w));
    const candidates = [y - h, y + bh, y].map((ly) => ({ x: lx, y: ly, width: w, height: h, scale, text }));
    const inside = candidates.filter((c) => c.y >= 0 && c.y + c.height <= height);
    const free = inside.find((c) => !placed.some((p) => overlaps(c, p)));
    placed.push(free ?? inside[0] ?? { ...candidates[2], y: Math.max(0, Math.min(y, height - h)) });
  }
  return placed;
}

/** Draws each face's box and "emotion 87%" beside it onto a copy of the photo. */
export function annotateFaces(photo: Image, faces: readonly FaceEmotion[], classes: readonly string[]): Image {
  const rgba = new Uint8Array(photo.width * photo.height * 4);
  if (photo.channels === 4) rgba.set(photo.data);
  else for (let i = 0; i < photo.width * photo.height; i++) rgba.set([photo.data[i], photo.data[i], photo.data[i], 255], 4 * i);
  const canvas = new Canvas({ width: photo.width, height: photo.height, channels: 4, data: rgba });
  const thickness = Math.max(2, Math.round(Math.min(photo.width, photo.height) / 200));
  const labels = labelBoxes(faces, photo.width, photo.height);
  for (const [i, f] of faces.entries()) {
    const color = EMOTION_COLORS[classes.indexOf(f.emotion)] ?? [255, 255, 255];
    const { x, y, width, height } = f.box;
    canvas.strokeRect(x, y, width, height, color, thickness);
    const l = labels[i];
    canvas.fillRect(l.x, l.y, l.width, l.height, color);
    canvas.text(l.x + 3, l.y + 3, l.text, [255, 255, 255], l.scale);
  }
  return canvas.image;
}
