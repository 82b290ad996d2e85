// The Train tab: settings in, a worker (train-worker.js) trains, and the page draws what it
// posts: loss and accuracy curves, the first layer's filters, per-layer times, and the
// model file to save.
import type { FromWorker, LayerTime, TrainConfig, ToWorker } from './train-protocol.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);

let worker: Worker | null = null;
let running = false;
let paused = false;
const losses: number[] = [];
const accs: number[] = [];
const vals: { step: number; accuracy: number }[] = [];

function send(m: ToWorker): void {
  worker?.postMessage(m);
}

function status(text: string, kind = ''): void {
  const s = $('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

/** A line chart of ys over steps 1…n (smoothed by a running mean when long), with optional dots. */
function chart(canvas: HTMLCanvasElement, ys: number[], lo: number, hi: number, dots: { step: number; value: number }[] = []): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const pad = 28;
  const n = Math.max(ys.length, dots.at(-1)?.step ?? 0, 2);
  const X = (i: number) => pad + ((w - pad - 8) * (i - 1)) / (n - 1);
  const Y = (v: number) => h - pad - ((h - pad - 8) * (Math.min(Math.max(v, lo), hi) - lo)) / (hi - lo || 1);
  ctx.strokeStyle = '#d0d5dd';
  ctx.fillStyle = '#667085';
  ctx.font = '11px sans-serif';
  for (const t of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath();
    ctx.moveTo(pad, Y(t));
    ctx.lineTo(w - 8, Y(t));
    ctx.stroke();
    ctx.fillText(t.toFixed(2), 2, Y(t) + 4);
  }
  ctx.fillText(`step ${n}`, w - 60, h - 8);
  const k = Math.max(1, Math.round(ys.length / 60));
  ctx.strokeStyle = '#4f46e5';
  ctx.lineWidth = 2;
  ctx.beginPath();
  let sum = 0;
  ys.forEach((v, i) => {
    sum += v - (i >= k ? ys[i - k] : 0);
    const m = sum / Math.min(i + 1, k);
    if (i === 0) ctx.moveTo(X(1), Y(m));
    else ctx.lineTo(X(i + 1), Y(m));
  });
  ctx.stroke();
  ctx.fillStyle = '#ea580c';
  for (const d of dots) {
    ctx.beginPath();
    ctx.arc(X(d.step), Y(d.value), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** Each filter's first input channel as a gray tile, scaled by the largest |weight| in the layer. */
function drawFilters(shape: number[], data: Float32Array): void {
  const [K, C, R, S] = shape;
  const zoom = 8;
  const canvas = $<HTMLCanvasElement>('filters');
  canvas.width = Math.min(K, 16) * (S * zoom + 6);
  canvas.height = Math.ceil(K / 16) * (R * zoom + 6);
  const ctx = canvas.getContext('2d')!;
  let max = 1e-12;
  for (const v of data) max = Math.max(max, Math.abs(v));
  for (let k = 0; k < K; k++) {
    const ox = (k % 16) * (S * zoom + 6);
    const oy = Math.floor(k / 16) * (R * zoom + 6);
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        const g = Math.round(127.5 + (127.5 * data[((k * C) * R + r) * S + s]) / max);
        ctx.fillStyle = `rgb(${g},${g},${g})`;
        ctx.fillRect(ox + s * zoom, oy + r * zoom, zoom, zoom);
      }
    }
  }
  canvas.dataset.updates = String(Number(canvas.dataset.updates ?? 0) + 1);
}

function drawTimes(rows: LayerTime[]): void {
  const body = $('layer-times').querySelector('tbody')!;
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      for (const text of [`${r.name} (${r.type})`, r.forwardMs.toFixed(2), r.backwardMs.toFixed(2)]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
      return tr;
    }),
  );
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'backend': {
      const badge = $('backend');
      badge.dataset.backend = m.backend;
      badge.className = `backend ${m.backend}`;
      badge.textContent = m.backend === 'webgpu' ? `WebGPU on ${m.reason}` : m.backend === 'wasm' ? `WebAssembly — ${m.reason}` : `CPU — ${m.reason}`;
      break;
    }
    case 'loading':
      status(`reading the data: ${m.images} images…`);
      break;
    case 'data':
      status(`training on ${m.train} images, validating on ${m.val}: ${m.description}`);
      break;
    case 'step':
      losses.push(m.loss);
      accs.push(m.accuracy);
      $('step').textContent = String(m.step);
      $('loss').textContent = m.loss.toFixed(4);
      $('acc').textContent = `${(100 * m.accuracy).toFixed(1)}%`;
      $('step-ms').textContent = `${m.ms.toFixed(0)} ms`;
      $('step').dataset.step = String(m.step);
      // Redraw at most every few steps: the curves, not the drawing, should cost the time.
      if (m.step % 5 === 0 || m.step < 5) {
        chart($<HTMLCanvasElement>('loss-chart'), losses, 0, Math.max(2.2, ...losses.slice(0, 3)));
        chart($<HTMLCanvasElement>('acc-chart'), accs, 0, 1, vals.map((v) => ({ step: v.step, value: v.accuracy })));
      }
      break;
    case 'val': {
      vals.push({ step: m.step, accuracy: m.accuracy });
      const v = $('val-acc');
      v.textContent = `${(100 * m.accuracy).toFixed(2)}% (${m.correct}/${m.count})`;
      v.dataset.accuracy = String(m.accuracy);
      v.dataset.correct = String(m.correct);
      v.dataset.step = String(m.step);
      chart($<HTMLCanvasElement>('acc-chart'), accs, 0, 1, vals.map((x) => ({ step: x.step, value: x.accuracy })));
      break;
    }
    case 'filters':
      drawFilters(m.shape, m.data);
      break;
    case 'timing':
      drawTimes(m.rows);
      break;
    case 'paused':
      status(`paused after step ${m.step}`);
      $('status').dataset.paused = String(m.step);
      break;
    case 'saved': {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      a.download = `${$<HTMLSelectElement>('network').value}-trained.safetensors`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      status(`saved ${a.download} (${m.bytes.length} bytes): fer eval --model ${a.download} --data …`);
      break;
    }
    case 'done':
      running = false;
      $('status').dataset.done = '1';
      status(`finished ${losses.length} steps; save the model or start again`);
      $<HTMLButtonElement>('pause').disabled = true;
      $<HTMLButtonElement>('start').disabled = false;
      break;
    case 'error':
      running = false;
      status(m.message, 'error');
      $<HTMLButtonElement>('start').disabled = false;
      $<HTMLButtonElement>('pause').disabled = true;
      break;
  }
}

function config(): TrainConfig {
  const kind = $<HTMLSelectElement>('source').value;
  let source: TrainConfig['source'];
  if (kind === 'csv') {
    const file = $<HTMLInputElement>('csv').files?.[0];
    if (!file) throw new Error('choose a FER2013 CSV file first');
    source = { kind, file };
  } else if (kind === 'folder') {
    const files = [...($<HTMLInputElement>('folder').files ?? [])];
    if (files.length === 0) throw new Error('choose an image folder first');
    source = { kind, files };
  } else {
    source = { kind: 'synthetic', count: num('count'), seed: 1 };
  }
  const cfg: TrainConfig = {
    backend: $<HTMLSelectElement>('backend-choice').value as TrainConfig['backend'],
    network: $<HTMLSelectElement>('network').value as TrainConfig['network'],
    source,
    optimizer: $<HTMLSelectElement>('optimizer').value as TrainConfig['optimizer'],
    lr: num('lr'),
    batchSize: num('batch'),
    steps: num('steps'),
    seed: 1,
    evalEvery: num('eval-every'),
  };
  if (!(cfg.lr > 0)) throw new Error(`the learning rate must be > 0, got ${$<HTMLInputElement>('lr').value}`);
  for (const [k, v] of [['batch size', cfg.batchSize], ['steps', cfg.steps], ['validation interval', cfg.evalEvery]] as const) {
    if (!Number.isInteger(v) || v < (k === 'batch size' ? 2 : 1)) throw new Error(`${k} must be a whole number${k === 'batch size' ? ' ≥ 2' : ' ≥ 1'}`);
  }
  if (source.kind === 'synthetic' && !(Number.isInteger(source.count) && source.count >= 70)) throw new Error('draw at least 70 faces');
  return cfg;
}

function start(): void {
  let cfg: TrainConfig;
  try {
    cfg = config();
  } catch (e) {
    return status((e as Error).message, 'error');
  }
  worker?.terminate();
  losses.length = accs.length = vals.length = 0;
  delete $('status').dataset.done;
  worker = new Worker('train-worker.js', { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: 'error', message: `the training worker failed: ${e.message}` });
  running = true;
  paused = false;
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('pause').disabled = false;
  $<HTMLButtonElement>('pause').textContent = 'Pause';
  $<HTMLButtonElement>('save').disabled = false;
  status('starting…');
  send({ type: 'start', config: cfg });
}

addEventListener('DOMContentLoaded', () => {
  // ?backend=cpu|wasm|webgpu preselects the backend, as on the other pages.
  const b = new URLSearchParams(location.search).get('backend');
  if (b === 'cpu' || b === 'wasm' || b === 'webgpu') $<HTMLSelectElement>('backend-choice').value = b;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.setAttribute('href', `${a.getAttribute('href')!.split('?')[0]}${location.search}`);
  $('source').addEventListener('change', () => {
    const v = $<HTMLSelectElement>('source').value;
    $('count-field').hidden = v !== 'synthetic';
    $('csv-field').hidden = v !== 'csv';
    $('folder-field').hidden = v !== 'folder';
  });
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    start();
  });
  $('pause').addEventListener('click', () => {
    if (!running) return;
    paused = !paused;
    send({ type: paused ? 'pause' : 'resume' });
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      delete $('status').dataset.paused;
      status('training…');
    }
  });
  $('save').addEventListener('click', () => send({ type: 'save' }));
});
