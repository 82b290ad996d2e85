import { FerError } from '../backend/errors.ts';
import { ADVANCE, CAP_HEIGHT, GLYPH_ROWS, GLYPH_WIDTH, glyphRows, LINE_HEIGHT } from './font.ts';
import type { Image } from './image.ts';

/** 0–255 per channel; alpha (default 255) blends the colour over what is there. */
export type Color = readonly [number, number, number] | readonly [number, number, number, number];

/**
 * Drawing on an RGBA image, in place. Pixel (x, y) is the unit square whose centre has integer
 * coordinates (x, y); rectangles take integer corners, lines take any real endpoints. Every
 * operation clips to the image. Colours with alpha < 255 blend "over": c·a + old·(1 − a).
 */
export class Canvas {
  readonly image: Image;

  constructor(image: Image) {
    if (image.channels !== 4 || image.data.length !== image.width * image.height * 4) {
      throw new FerError(`Canvas: image must be RGBA (4 channels, ${image.width * image.height * 4} bytes), got ${image.channels} channels and ${image.data.length} bytes`);
    }
    this.image = image;
  }

  /** A new width×height canvas filled with `background` (opaque white by default). */
  static blank(width: number, height: number, background: Color = [255, 255, 255]): Canvas {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new FerError(`Canvas.blank: size must be positive integers, got ${width}×${height}`);
    }
    const c = new Canvas({ width, height, channels: 4, data: new Uint8Array(width * height * 4) });
    const [r, g, b, a = 255] = background;
    for (let i = 0; i < c.image.data.length; i += 4) c.image.data.set([r, g, b, a], i);
    return c;
  }

  get width(): number {
    return this.image.width;
  }

  get height(): number {
    return this.image.height;
  }

  /** Blends `color` at coverage `cover` (0–1) into pixel (x, y); ignores pixels off the image. */
  blend(x: number, y: number, color: Color, cover = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || !(cover > 0)) return;
    const a = ((color[3] ?? 255) / 255) * Math.min(cover, 1);
    const d = this.image.data;
    const i = 4 * (y * this.width + x);
    for (let k = 0; k < 3; k++) d[i + k] = Math.round(color[k] * a + d[i + k] * (1 - a));
    d[i + 3] = Math.round(255 * a + d[i + 3] * (1 - a));
  }

  /** Fills pixels x ≤ px < x+w, y ≤ py < y+h. */
  fillRect(x: number, y: number, w: number, h: number, color: Color): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.blend(px, py, color);
  }

  /** A border `thickness` pixels wide, inside the rectangle fillRect(x, y, w, h) would fill. */
  strokeRect(x: number, y: number, w: number, h: number, color: Color, thickness = 1): void {
    const t = Math.max(1, Math.min(Math.round(thickness), Math.floor(w / 2), Math.floor(h / 2)));
    if (w <= 2 * t || h <= 2 * t) return this.fillRect(x, y, w, h, color);
    this.fillRect(x, y, w, t, color);
    this.fillRect(x, y + h - t, w, t, color);
    this.fillRect(x, y + t, t, h - 2 * t, color);
    this.fillRect(x + w - t, y + t, t, h - 2 * t, color);
  }

  /**
   * An antialiased segment with round caps: each pixel is covered by how far its centre lies
   * inside distance thickness/2 of the segment (full within, fading to zero over one pixel).
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): void {
    const r = thickness / 2;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const pad = r + 1;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - pad));
    const xb = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + pad));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - pad));
    const yb = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + pad));
    for (let py = ya; py <= yb; py++) {
      for (let px = xa; px <= xb; px++) {
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
        const dist = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        this.blend(px, py, color, r + 0.5 - dist);
      }
    }
  }

  /** A filled, antialiased disc. */
  dot(cx: number, cy: number, radius: number, color: Color): void {
    this.line(cx, cy, cx, cy, color, 2 * radius);
  }

  /**
   * Draws `s` with its first line's top-left corner at (x, y): capitals fill rows y … y+7·scale−1,
   * descenders reach two rows lower. `scale` (a positive integer) blows every font pixel up to
   * scale×scale. '\n' starts a new line. Returns the width drawn (textWidth).
   */
  text(x: number, y: number, s: string, color: Color, scale = 1): number {
    if (!Number.isInteger(scale) || scale <= 0) throw new FerError(`Canvas.text: scale must be a positive integer, got ${scale}`);
    const x0 = Math.round(x);
    let cy = Math.round(y);
    for (const line of s.split('\n')) {
      let cx = x0;
      for (const ch of line) {
        const rows = glyphRows(ch);
        for (let r = 0; r < GLYPH_ROWS; r++) {
          for (let c = 0; c < GLYPH_WIDTH; c++) {
            if (rows[r] & (1 << (GLYPH_WIDTH - 1 - c))) this.fillRect(cx + c * scale, cy + r * scale, scale, scale, color);
          }
        }
        cx += ADVANCE * scale;
      }
      cy += LINE_HEIGHT * scale;
    }
    return textWidth(s, scale);
  }

  textWidth(s: string, scale = 1): number {
    return textWidth(s, scale);
  }
}

/** Width in pixels of the longest line of `s`, without the blank column after its last glyph. */
export function textWidth(s: string, scale = 1): number {
  const longest = Math.max(...s.split('\n').map((l) => [...l].length));
  return longest === 0 ? 0 : (longest * ADVANCE - 1) * scale;
}

/** Height in pixels of `s` measured by its capitals: one cap height plus a line step per '\n'. */
export function textHeight(s: string, scale = 1): number {
  return (CAP_HEIGHT + (s.split('\n').length - 1) * LINE_HEIGHT) * scale;
}
