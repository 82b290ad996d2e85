import { FerError } from '../backend/errors.ts';
import type { Image } from '../image/image.ts';

/** Anything a page can hand to `predict`: a frame, a picture, or pixels already read (ImageData, or an Image as Node's readImage gives). */
export type PixelSource = ImageData | Image | HTMLImageElement | HTMLCanvasElement | HTMLVideoElement | ImageBitmap | OffscreenCanvas;

/**
 * Decodes an image file exactly: no colour-space conversion and no premultiplied alpha, so a
 * PNG's stored bytes arrive unchanged (as pngjs gives them in Node) and a photo is classified
 * the same in the browser and by `fer predict`.
 */
export function decodeImageFile(file: Blob): Promise<ImageBitmap> {
  return createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' }).catch((e: Error) => {
    throw new FerError(`decodeImageFile: ${(file as File).name ?? 'the file'} is not an image this browser can decode (${e.message})`);
  });
}

function sizeOf(source: PixelSource): { width: number; height: number } {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) return { width: source.videoWidth, height: source.videoHeight };
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return { width: source.naturalWidth, height: source.naturalHeight };
  return { width: source.width, height: source.height };
}

function scratchContext(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  // willReadFrequently keeps the canvas in CPU memory: every video frame is read back.
  const settings: CanvasRenderingContext2DSettings = { willReadFrequently: true, colorSpace: 'srgb' };
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height).getContext('2d', settings)!;
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c.getContext('2d', settings)!;
}

/** The RGBA pixels of a picture or the current video frame, read through a 2D canvas. */
export function readPixels(source: PixelSource): Image {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    return { width: source.width, height: source.height, channels: 4, data: source.data };
  }
  if ('channels' in source && 'data' in source) return source;
  const { width, height } = sizeOf(source);
  if (!(width > 0 && height > 0)) {
    throw new FerError(`predict: the ${source.constructor?.name ?? 'source'} has no pixels yet (${width}×${height}); wait until it has loaded`);
  }
  const ctx = scratchContext(width, height);
  ctx.drawImage(source as CanvasImageSource, 0, 0);
  const data = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  return { width, height, channels: 4, data };
}
