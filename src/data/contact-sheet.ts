import { FerError } from '../backend/errors.ts';
import { grayImage, type GrayImage } from '../image/image.ts';
import { IMAGE_SIZE, PIXELS, type Dataset } from './dataset.ts';

export interface SheetOptions {
  /** Which images, in order (default: the first rows·columns). */
  indices?: ArrayLike<number>;
  columns?: number;
  /** Each pixel drawn as scale×scale (nearest neighbour, so what you see is what the network gets). */
  scale?: number;
  /** Gray gap between images, in output pixels. */
  gap?: number;
}

/** A grid of a dataset's images in one gray picture, for looking at data (encode with encodePng). */
export function contactSheet(ds: Dataset, opts: SheetOptions = {}): GrayImage {
  const columns = opts.columns ?? 10;
  const scale = opts.scale ?? 3;
  const gap = opts.gap ?? 2;
  const indices = opts.indices ?? Array.from({ length: Math.min(ds.count, columns * columns) }, (_, i) => i);
  if (indices.length === 0) throw new FerError('contactSheet: no images to show');
  const cell = IMAGE_SIZE * scale + gap;
  const rows = Math.ceil(indices.length / columns);
  const width = columns * cell + gap;
  const height = rows * cell + gap;
  const out = new Uint8Array(width * height).fill(128);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new FerError(`contactSheet: index ${i} is outside the dataset (count ${ds.count})`);
    const ox = gap + (k % columns) * cell;
    const oy = gap + Math.floor(k / columns) * cell;
    const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    for (let y = 0; y < IMAGE_SIZE * scale; y++) {
      for (let x = 0; x < IMAGE_SIZE * scale; x++) {
        out[(oy + y) * width + ox + x] = img[Math.floor(y / scale) * IMAGE_SIZE + Math.floor(x / scale)];
      }
    }
  }
  return grayImage(width, height, out);
}
