import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Canvas, textHeight, textWidth, type Color } from '../../src/image/canvas.ts';
import { blues, heatmap, legendCorner, lineChart } from '../../src/image/charts.ts';
import { encodePng } from '../../src/image/decode.ts';
import { glyphRows, GLYPH_ROWS } from '../../src/image/font.ts';
import type { Image } from '../../src/image/image.ts';
import { niceTicks } from '../../src/image/ticks.ts';

// Rendered sheets land here for a person to look at (FER_TEST_OUT overrides).
const OUT = process.env.FER_TEST_OUT ?? join(tmpdir(), 'fer-webgpu-image-tests');
mkdirSync(OUT, { recursive: true });
function save(name: string, img: Image): void {
  writeFileSync(join(OUT, name), encodePng(img));
  console.log(`[image] wrote ${join(OUT, name)}`);
}

const WHITE: Color = [255, 255, 255];
const px = (img: Image, x: number, y: number) => Array.from(img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 4));
const count = (img: Image, [r, g, b]: Color) => {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] === r && img.data[i + 1] === g && img.data[i + 2] === b) n++;
  return n;
};
const art = (rows: readonly number[]) => rows.map((r) => r.toString(2).padStart(5, '0').replace(/0/g, '.').replace(/1/g, '#'));

describe('bitmap font', () => {
  const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

  it('has a distinct 5-wide glyph for every printable ASCII character; only space is blank', () => {
    const seen = new Map<string, string>();
    for (const ch of printable) {
      const rows = glyphRows(ch);
      expect(rows).toHaveLength(GLYPH_ROWS);
      expect(rows.every((r) => Number.isInteger(r) && r >= 0 && r < 32)).toBe(true);
      expect(rows.some((r) => r !== 0)).toBe(ch !== ' ');
      const key = rows.join(',');
      expect(seen.get(key), `${ch} looks like ${seen.get(key)}`).toBeUndefined();
      seen.set(key, ch);
    }
  });

  it('draws A, 0 and % as designed, and anything else as ?', () => {
    expect(art(glyphRows('A')).slice(0, 7)).toEqual(['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#']);
    expect(art(glyphRows('0')).slice(0, 7)).toEqual(['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.']);
    expect(art(glyphRows('%')).slice(0, 7)).toEqual(['##...', '##..#', '...#.', '..#..', '.#...', '#..##', '...##']);
    expect(glyphRows('é')).toEqual(glyphRows('?'));
  });

  it('keeps capitals and digits above the baseline, descenders below', () => {
    for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%:.()-/') expect(glyphRows(ch).slice(7), ch).toEqual([0, 0]);
    for (const ch of 'gjpqy_,;') expect(glyphRows(ch).slice(7).some((r) => r !== 0), ch).toBe(true);
  });

  it('renders every glyph to a sheet', () => {
    const c = Canvas.blank(420, 150);
    const chars = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    for (let row = 0; row < 4; row++) c.text(8, 8 + row * 22, chars.slice(row * 24, row * 24 + 24), [0, 0, 0], 2);
    c.text(8, 100, 'loss 0.532, acc: 61.2% (val) - epoch 3/30 val_acc', [0, 0, 160]);
    c.text(8, 118, 'angry disgust fear happy sad surprise neutral', [160, 0, 0]);
    save('font.png', c.image);
    expect(count(c.image, [0, 0, 0])).toBeGreaterThan(1000);
  });
});

describe('Canvas', () => {
  it('wraps only RGBA images', () => {
    expect(() => new Canvas({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) })).toThrow(FerError);
    expect(() => new Canvas({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) })).toThrow(
      'Canvas: image must be RGBA (4 channels, 16 bytes), got 1 channels and 4 bytes',
    );
    expect(() => Canvas.blank(0, 5)).toThrow('Canvas.blank: size must be positive integers, got 0×5');
  });

  it('fillRect paints exactly [x, x+w) × [y, y+h), clipped to the image', () => {
    const c = Canvas.blank(8, 6);
    c.fillRect(2, 1, 3, 2, [10, 20, 30]);
    c.fillRect(6, 4, 10, 10, [1, 2, 3]);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 8; x++) {
        const inA = x >= 2 && x < 5 && y >= 1 && y < 3;
        const inB = x >= 6 && y >= 4;
        expect(px(c.image, x, y)).toEqual(inA ? [10, 20, 30, 255] : inB ? [1, 2, 3, 255] : [255, 255, 255, 255]);
      }
    }
  });

  it('blends translucent colours over what is there', () => {
    const c = Canvas.blank(2, 1);
    c.fillRect(0, 0, 1, 1, [255, 0, 0, 128]);
    // g = 0·a + 255·(1 − a) with a = 128/255 → 127.
    expect(px(c.image, 0, 0)).toEqual([255, 127, 127, 255]);
    expect(px(c.image, 1, 0)).toEqual([255, 255, 255, 255]);
  });

  it('strokeRect draws a border of the given thickness inside the rectangle', () => {
    const c = Canvas.blank(12, 10);
    c.strokeRect(1, 1, 10, 8, [0, 0, 0], 2);
    expect(count(c.image, [0, 0, 0])).toBe(10 * 8 - 6 * 4);
    expect(px(c.image, 1, 1)).toEqual([0, 0, 0, 255]);
    expect(px(c.image, 2, 2)).toEqual([0, 0, 0, 255]);
    expect(px(c.image, 3, 3)).toEqual([255, 255, 255, 255]);
    expect(px(c.image, 10, 8)).toEqual([0, 0, 0, 255]);
    expect(px(c.image, 11, 9)).toEqual([255, 255, 255, 255]);
  });

  it('line: a 1-pixel horizontal line covers its row only; a diagonal is symmetric', () => {
    const c = Canvas.blank(16, 12);
    c.line(2, 5, 12, 5, [0, 0, 0]);
    for (let x = 0; x < 16; x++) {
      expect(px(c.image, x, 5)).toEqual(x >= 2 && x <= 12 ? [0, 0, 0, 255] : [255, 255, 255, 255]);
      expect(px(c.image, x, 4)).toEqual([255, 255, 255, 255]);
      expect(px(c.image, x, 6)).toEqual([255, 255, 255, 255]);
    }
    const d = Canvas.blank(12, 12);
    d.line(1, 1, 10, 10, [0, 0, 0], 2);
    expect(px(d.image, 5, 5)).toEqual([0, 0, 0, 255]);
    for (let k = 1; k < 11; k++) for (let j = 0; j < 12; j++) expect(px(d.image, k, j)).toEqual(px(d.image, j, k));
    // Antialiased: pixels at the edge are partly covered.
    expect(px(d.image, 6, 5)[0]).toBeGreaterThan(0);
    expect(px(d.image, 6, 5)[0]).toBeLessThan(255);
  });

  it('text draws glyph pixels at the scale asked, and textWidth measures it', () => {
    const c = Canvas.blank(40, 30);
    expect(c.text(3, 2, 'A', [0, 0, 0])).toBe(5);
    const rows = glyphRows('A');
    for (let r = 0; r < 9; r++) for (let k = 0; k < 5; k++) expect(px(c.image, 3 + k, 2 + r)[0]).toBe(rows[r] & (16 >> k) ? 0 : 255);
    const s = Canvas.blank(40, 30);
    s.text(1, 1, 'A', [0, 0, 0], 3);
    expect(count(s.image, [0, 0, 0])).toBe(9 * count(c.image, [0, 0, 0]));
    expect(textWidth('ab')).toBe(11);
    expect(textWidth('ab\nxyz', 2)).toBe(34);
    expect(textWidth('')).toBe(0);
    expect(textHeight('a\nb')).toBe(18);
    expect(() => c.text(0, 0, 'x', [0, 0, 0], 1.5)).toThrow('Canvas.text: scale must be a positive integer, got 1.5');
  });
});

describe('charts', () => {
  it('niceTicks picks 1-2-5 steps that cover the range', () => {
    expect(niceTicks(0.48, 2.34)).toEqual({ ticks: [0, 0.5, 1, 1.5, 2, 2.5], step: 0.5, decimals: 1 });
    // (0.61 − 0.013)/5 ≈ 0.12 rounds up to a step of 0.2.
    expect(niceTicks(0.013, 0.61).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(1, 30, 8)).toMatchObject({ step: 5, decimals: 0 });
    const flat = niceTicks(3, 3);
    expect(flat.ticks[0]).toBeLessThan(3);
    expect(flat.ticks[flat.ticks.length - 1]).toBeGreaterThan(3);
  });

  it('lineChart plots training curves with axes, ticks and a legend', () => {
    const n = 30;
    const train = Array.from({ length: n }, (_, i) => 1.8 * Math.exp(-i / 8) + 0.45);
    const val = Array.from({ length: n }, (_, i) => 1.7 * Math.exp(-i / 9) + 0.6 + 0.0004 * i * i);
    const blue: Color = [31, 119, 180];
    const orange: Color = [255, 127, 14];
    const img = lineChart(
      [
        { name: 'train loss', values: train, color: blue },
        { name: 'val loss', values: val, color: orange },
      ],
      { title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'cross-entropy' },
    );
    save('loss.png', img);
    expect([img.width, img.height, img.channels]).toEqual([720, 420, 4]);
    // Each curve: a 2-pixel line across the plot, plus dots and the legend swatch.
    expect(count(img, blue)).toBeGreaterThan(600);
    expect(count(img, orange)).toBeGreaterThan(600);
    expect(count(img, WHITE)).toBeGreaterThan(0.8 * 720 * 420);

    const acc = lineChart(
      [
        { name: 'train accuracy', values: train.map((v) => 1 - v / 2.6), color: [44, 160, 44] },
        { name: 'val accuracy', values: val.map((v, i) => (i === 12 ? NaN : 0.95 - v / 2.5)), color: [214, 39, 40] },
      ],
      { title: 'Accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', width: 640, height: 360 },
    );
    save('accuracy.png', acc);
    expect([acc.width, acc.height]).toEqual([640, 360]);
  });

  it('lineChart puts the legend where the curves are not: a rising accuracy keeps its last point visible', () => {
    const plot = { left: 40, right: 700, top: 58, bottom: 374 };
    const box = { width: 100, height: 36 };
    // Points in the top right push the legend to the top left; points along the whole top, to the bottom.
    expect(legendCorner(plot, box, [[680, 70]])).toEqual({ x: 50, y: 64 });
    expect(legendCorner(plot, box, [[680, 70], [60, 70]])).toEqual({ x: 594, y: 332 });
    expect(legendCorner(plot, box, [])).toEqual({ x: 594, y: 64 });

    // The image: the last validation point of a rising curve keeps its colour.
    const red: Color = [214, 39, 40];
    const rising = Array.from({ length: 9 }, (_, i) => 20 + 5 * i);
    const img = lineChart([{ name: 'validation', values: rising, color: red }], { title: 't', xLabel: 'epoch', yLabel: '%', width: 560, height: 380 });
    const plotTopRight = { x: 560 - 24, y: 58 };
    let redNearLast = 0;
    for (let y = plotTopRight.y - 8; y < plotTopRight.y + 30; y++) {
      for (let x = plotTopRight.x - 30; x <= plotTopRight.x; x++) {
        const o = 4 * (y * img.width + x);
        if (img.data[o] === red[0] && img.data[o + 1] === red[1] && img.data[o + 2] === red[2]) redNearLast++;
      }
    }
    expect(redNearLast).toBeGreaterThan(10);
  });

  it('lineChart refuses series without a finite value', () => {
    expect(() => lineChart([{ name: 'x', values: [NaN], color: [0, 0, 0] }], { title: 't', xLabel: 'x', yLabel: 'y' })).toThrow(
      'lineChart: series must hold at least one finite value',
    );
  });

  it('heatmap colours each cell by its share of the row and writes the counts', () => {
    const labels = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
    const m = [
      [312, 8, 45, 21, 60, 12, 49],
      [10, 36, 4, 2, 3, 0, 1],
      [48, 3, 251, 18, 97, 55, 52],
      [14, 0, 12, 812, 20, 11, 26],
      [55, 2, 70, 25, 380, 9, 112],
      [6, 0, 38, 15, 5, 340, 11],
      [30, 1, 35, 40, 95, 8, 398],
    ];
    save('confusion.png', heatmap(m, labels, labels, { title: 'Confusion matrix (test)' }));

    // Two perfectly separated classes (and an empty row): shares are 1 on the diagonal, 0 off it.
    const img = heatmap(
      [
        [5, 0, 0],
        [0, 7, 0],
        [0, 0, 0],
      ],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      { title: 'tiny' },
    );
    const cellArea = 48 * 40;
    const full = count(img, blues(1));
    const empty = count(img, blues(0));
    // Two full cells less their white text, seven empty cells less their dark text (and the bar's ends).
    expect(full).toBeGreaterThan(2 * cellArea * 0.8);
    expect(full).toBeLessThan(2 * cellArea + 200);
    expect(empty).toBeGreaterThan(7 * cellArea * 0.8);
    expect(blues(0)).toEqual([247, 251, 255]);
    expect(blues(1)).toEqual([8, 48, 107]);
  });

  it('heatmap rejects a ragged matrix', () => {
    expect(() => heatmap([[1, 2], [3]], ['a', 'b'], ['x', 'y'], { title: 't' })).toThrow('heatmap: row 1 has 1 cells, wanted 2 (one per column label)');
    expect(() => heatmap([[1, 2]], ['a', 'b'], ['x', 'y'], { title: 't' })).toThrow('heatmap: matrix has 1 rows but 2 row labels');
  });
});
