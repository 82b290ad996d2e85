import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FerError } from '../backend/errors.ts';
import type { Image } from './image.ts';

/**
 * Decodes a PNG or JPEG (Node; the browser decodes with a canvas). Any colour type comes out
 * as RGBA. `name` is used in the one-line error for a file that is not a readable image.
 */
export function decodeImage(bytes: Uint8Array, name: string): Image {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isPng = buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    if (isJpeg) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, channels: 4, data: img.data };
    }
  } catch (e) {
    throw new FerError(`${name}: unreadable ${isPng ? 'PNG' : 'JPEG'} (${(e as Error).message})`);
  }
  throw new FerError(`${name}: not a PNG or JPEG file`);
}

/** Encodes gray or RGBA pixels as JPEG (baseline, quality 90). */
export function encodeJpeg(img: Image, quality = 90): Uint8Array {
  const rgba = new Uint8Array(img.width * img.height * 4);
  if (img.channels === 4) rgba.set(img.data);
  else for (let i = 0; i < img.width * img.height; i++) rgba.set([img.data[i], img.data[i], img.data[i], 255], 4 * i);
  return new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data);
}

/** Encodes gray or RGBA pixels as PNG. */
export function encodePng(img: Image): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  if (img.channels === 4) png.data.set(img.data);
  else {
    for (let i = 0; i < img.width * img.height; i++) {
      const v = img.data[i];
      png.data[4 * i] = v;
      png.data[4 * i + 1] = v;
      png.data[4 * i + 2] = v;
      png.data[4 * i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}
