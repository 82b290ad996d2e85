// The results panel: per face, its emotion and a bar chart of the seven probabilities.
import { emotionColor } from './draw-faces.ts';
import type { FaceEmotion } from './index.ts';

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function card(face: FaceEmotion, index: number, classes: readonly string[]): HTMLElement {
  const c = h('article', 'face-card');
  // The exact numbers, for scripts and tests; the page shows them rounded.
  c.dataset.emotion = face.emotion;
  c.dataset.probabilities = JSON.stringify(face.probabilities);
  c.dataset.box = JSON.stringify(face.box);
  c.style.setProperty('--accent', emotionColor(classes, face.emotion));
  const head = h('header', 'face-head');
  head.append(h('span', 'face-index', String(index + 1)), h('span', 'face-emotion', face.emotion), h('span', 'face-confidence', `${(100 * face.confidence).toFixed(1)}%`));
  const { x, y, width, height } = face.box;
  const where = h('p', 'face-box', face.neighbors > 0 ? `at ${x}, ${y} · ${width}×${height} px · ${face.neighbors} detector votes` : `whole picture · ${width}×${height} px`);
  const bars = h('ol', 'bars');
  const top = Math.max(...face.probabilities);
  face.probabilities.forEach((p, k) => {
    const row = h('li', p === top ? 'bar-row top' : 'bar-row');
    row.style.setProperty('--bar', emotionColor(classes, classes[k]));
    const track = h('span', 'bar-track');
    const fill = h('span', 'bar-fill');
    fill.style.width = `${(100 * p).toFixed(2)}%`;
    track.append(fill);
    row.append(h('span', 'bar-label', classes[k]), track, h('span', 'bar-value', `${(100 * p).toFixed(1)}%`));
    bars.append(row);
  });
  c.append(head, where, bars);
  return c;
}

/** Replaces the panel's cards (reusing nothing: at most a few faces, a few times a second). */
export function showFaces(panel: HTMLElement, faces: readonly FaceEmotion[], classes: readonly string[], empty: string): void {
  panel.dataset.count = String(faces.length);
  if (faces.length === 0) {
    panel.replaceChildren(h('p', 'empty', empty));
    return;
  }
  panel.replaceChildren(...faces.map((f, i) => card(f, i, classes)));
}
