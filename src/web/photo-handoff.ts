// The demo's current photo, handed to the explorer through sessionStorage (same tab, same origin).
// Stored as a PNG of the decoded pixels, so the explorer sees exactly what the demo classified.
import { decodeImageFile } from './index.ts';

const KEY = 'fer.currentPhoto';

export function storePhoto(canvas: HTMLCanvasElement, name: string): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ name, url: canvas.toDataURL('image/png') }));
  } catch {
    // Over the storage quota (a very large photo): the explorer then asks for a file instead.
    sessionStorage.removeItem(KEY);
  }
}

export async function loadStoredPhoto(): Promise<{ name: string; bitmap: ImageBitmap } | null> {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const { name, url } = JSON.parse(raw) as { name: string; url: string };
  const blob = await (await fetch(url)).blob();
  return { name, bitmap: await decodeImageFile(blob) };
}
