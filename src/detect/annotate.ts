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

/** Draws each face's box and "emotion 87%" above it onto a copy of the photo. */
export function annotateFaces(photo: Image, faces: readonly FaceEmotion[], classes: readonly string[]): Image {
  const rgba = new Uint8Array(photo.width * photo.height * 4);
  if (photo.channels === 4) rgba.set(photo.data);
  else for (let i = 0; i < photo.width * photo.height; i++) rgba.set([photo.data[i], photo.data[i], photo.data[i], 255], 4 * i);
  const canvas = new Canvas({ width: photo.width, height: photo.height, channels: 4, data: rgba });
  const thickness = Math.max(2, Math.round(Math.min(photo.width, photo.height) / 200));
  const scale = Math.max(1, Math.round(Math.min(photo.width, photo.height) / 250));
  for (const f of faces) {
    const color = EMOTION_COLORS[classes.indexOf(f.emotion)] ?? [255, 255, 255];
    const { x, y, width, height } = f.box;
    canvas.strokeRect(x, y, width, height, color, thickness);
    const label = `${f.emotion} ${(100 * f.confidence).toFixed(0)}%`;
    const w = textWidth(label, scale) + 6;
    const h = 9 * scale + 6;
    const ty = y - h >= 0 ? y - h : y + height;
    canvas.fillRect(x, ty, w, h, color);
    canvas.text(x + 3, ty + 3, label, [255, 255, 255], scale);
  }
  return canvas.image;
}
