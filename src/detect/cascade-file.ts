// Node only: reads a cascade from disk. The browser fetches the XML text and calls parseCascade.
import { readFileSync } from 'node:fs';
import { FerError } from '../backend/errors.ts';
import { parseCascade, type Cascade } from './cascade.ts';

/** OpenCV's frontal face cascade, as Debian's opencv-data package installs it. */
export const DEFAULT_CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';

export function loadCascadeFile(path: string = DEFAULT_CASCADE): Cascade {
  let xml: string;
  try {
    xml = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new FerError(`face cascade ${path} not found: install Debian's opencv-data package (apt-get install opencv-data) or pass --cascade PATH`);
    }
    throw new FerError(`face cascade ${path} cannot be read (${code ?? (e as Error).message}); pass --cascade PATH to use another file`);
  }
  return parseCascade(xml, path);
}
