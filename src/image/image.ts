import { FerError } from '../backend/errors.ts';

/** 8-bit pixels, row-major. `channels` is 1 (gray) or 4 (RGBA). */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

export interface GrayImage extends Image {
  channels: 1;
}

export function grayImage(width: number, height: number, data?: Uint8Array): GrayImage {
  const d = data ?? new Uint8Array(width * height);
  if (d.length !== width * height) throw new FerError(`gray image ${width}×${height} needs ${width * height} bytes, got ${d.length}`);
  return { width, height, channels: 1, data: d };
}

/** ITU-R BT.601 luma, as OpenCV's cvtColor(…, COLOR_RGB2GRAY): 0.299 R + 0.587 G + 0.114 B. */
export function toGray(img: Image): GrayImage {
  if (img.channels === 1) return img as GrayImage;
  const out = new Uint8Array(img.width * img.height);
  const d = img.data;
  for (let i = 0, j = 0; i < out.length; i++, j += 4) {
    out[i] = Math.round(0.299 * d[j] + 0.587 * d[j + 1] + 0.114 * d[j + 2]);
  }
  return grayImage(img.width, img.height, out);
}

/** The rectangle [x, x+w) × [y, y+h), clipped to the image. */
export function crop(img: GrayImage, x: number, y: number, w: number, h: number): GrayImage {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w));
  const y1 = Math.min(img.height, Math.floor(y + h));
  if (x1 <= x0 || y1 <= y0) throw new FerError(`crop: box ${x},${y} ${w}×${h} lies outside the ${img.width}×${img.height} image`);
  const out = new Uint8Array((x1 - x0) * (y1 - y0));
  for (let r = y0; r < y1; r++) out.set(img.data.subarray(r * img.width + x0, r * img.width + x1), (r - y0) * (x1 - x0));
  return grayImage(x1 - x0, y1 - y0, out);
}

/**
 * Resizes a gray image. Shrinking averages every source pixel a target pixel covers (area
 * resampling, OpenCV's INTER_AREA), so detail is not aliased; growing interpolates bilinearly
 * between pixel centres (INTER_LINEAR).
 */
export function resize(img: GrayImage, width: number, height: number): GrayImage {
  if (width === img.width && height === img.height) return grayImage(width, height, Uint8Array.from(img.data));
  const out = new Uint8Array(width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  if (sx >= 1 && sy >= 1) {
    for (let ty = 0; ty < height; ty++) {
      const fy0 = ty * sy;
      const fy1 = fy0 + sy;
      for (let tx = 0; tx < width; tx++) {
        const fx0 = tx * sx;
        const fx1 = fx0 + sx;
        let sum = 0;
        for (let y = Math.floor(fy0); y < Math.ceil(fy1); y++) {
          const wy = Math.min(fy1, y + 1) - Math.max(fy0, y);
          for (let x = Math.floor(fx0); x < Math.ceil(fx1); x++) {
            const wx = Math.min(fx1, x + 1) - Math.max(fx0, x);
            sum += wx * wy * img.data[y * img.width + x];
          }
        }
        out[ty * width + tx] = Math.round(sum / (sx * sy));
      }
    }
    return grayImage(width, height, out);
  }
  for (let ty = 0; ty < height; ty++) {
    const fy = Math.min(Math.max((ty + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let tx = 0; tx < width; tx++) {
      const fx = Math.min(Math.max((tx + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      const top = img.data[y0 * img.width + x0] * (1 - wx) + img.data[y0 * img.width + x1] * wx;
      const bottom = img.data[y1 * img.width + x0] * (1 - wx) + img.data[y1 * img.width + x1] * wx;
      out[ty * width + tx] = Math.round(top * (1 - wy) + bottom * wy);
    }
  }
  return grayImage(width, height, out);
}

/**
 * Histogram equalization, as OpenCV's equalizeHist: each gray level maps to its rank in the
 * image's cumulative histogram, stretched over 0–255. The FER2013 images are equalized, so a
 * face cropped from a photo is equalized the same way before the network sees it.
 */
export function equalizeHistogram(img: GrayImage): GrayImage {
  const n = img.width * img.height;
  const hist = new Uint32Array(256);
  for (let i = 0; i < n; i++) hist[img.data[i]]++;
  let first = 0;
  while (first < 255 && hist[first] === 0) first++;
  const out = new Uint8Array(n);
  if (hist[first] === n) {
    out.fill(img.data[0]);
    return grayImage(img.width, img.height, out);
  }
  const scale = 255 / (n - hist[first]);
  const lut = new Uint8Array(256);
  let cdf = 0;
  for (let v = first + 1; v < 256; v++) {
    cdf += hist[v];
    lut[v] = Math.min(255, Math.max(0, Math.round(cdf * scale)));
  }
  for (let i = 0; i < n; i++) out[i] = lut[img.data[i]];
  return grayImage(img.width, img.height, out);
}
