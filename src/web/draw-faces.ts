// Boxes and labels over a photo or video frame, one colour per emotion.
import { EMOTION_COLORS, type FaceEmotion } from './index.ts';

export function emotionColor(classes: readonly string[], emotion: string): string {
  const c = EMOTION_COLORS[classes.indexOf(emotion)] ?? [255, 255, 255];
  return `rgb(${c[0]} ${c[1]} ${c[2]})`;
}

/** Draws each face's box and "1 happy 87%" tag onto ctx (already holding the picture). */
export function drawFaces(ctx: CanvasRenderingContext2D, faces: readonly FaceEmotion[], classes: readonly string[]): void {
  const { width, height } = ctx.canvas;
  // Sized to the picture, so the box reads the same however the canvas is scaled on screen.
  const unit = Math.max(1, Math.min(width, height) / 320);
  ctx.save();
  ctx.lineJoin = 'round';
  ctx.font = `600 ${Math.round(12 * unit)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  faces.forEach((f, i) => {
    const color = emotionColor(classes, f.emotion);
    const { x, y, width: w, height: h } = f.box;
    ctx.lineWidth = 4 * unit;
    ctx.strokeStyle = 'rgb(0 0 0 / 0.35)';
    ctx.strokeRect(x, y, w, h);
    ctx.lineWidth = 2.5 * unit;
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, w, h);
    const label = `${i + 1}  ${f.emotion} ${(100 * f.confidence).toFixed(0)}%`;
    const th = 20 * unit;
    const tw = ctx.measureText(label).width + 12 * unit;
    const ty = y - th - 2 * unit >= 0 ? y - th - 2 * unit : y + h + 2 * unit;
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.roundRect(x - ctx.lineWidth / 2, ty, tw, th, 4 * unit);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.fillText(label, x - ctx.lineWidth / 2 + 6 * unit, ty + th / 2);
  });
  ctx.restore();
}
