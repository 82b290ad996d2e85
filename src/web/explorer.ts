// The kernel explorer: pick a layer; see its filters, the current face's feature maps there,
// the WGSL that computed them and how long that layer's forward takes on this backend.
import { renderFeatureMaps, type MapScale } from './feature-map-view.ts';
import { renderFilters, type ChannelChoice, type ParamValues } from './filter-view.ts';
import { decodeImageFile, type FerModel, type LayerInfo } from './index.ts';
import { loadPageModel } from './page-model.ts';
import { loadStoredPhoto } from './photo-handoff.ts';
import { wgslHtml } from './wgsl-view.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const TIMING_RUNS = 5;

const shapeText = (s: readonly number[]) => s.join('×');
const count = (n: number) => n.toLocaleString('en-US');

let model: FerModel;
let face: Float32Array | null = null;
let selected = -1;
// Bumped on every change of layer or face, so late answers for an old choice are dropped.
let generation = 0;
const sources = new Map<string, Promise<string>>();

function fact(label: string, value: string, id?: string): HTMLElement {
  const f = document.createElement('div');
  f.className = 'fact';
  if (id) f.id = id;
  f.append(Object.assign(document.createElement('span'), { textContent: label }), Object.assign(document.createElement('b'), { textContent: value }));
  return f;
}

function showFace(input: Float32Array, text: string): void {
  const canvas = $<HTMLCanvasElement>('face');
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(48, 48);
  input.forEach((v, i) => {
    img.data.set([v * 255, v * 255, v * 255, 255], 4 * i);
  });
  ctx.putImageData(img, 0, 0);
  $('face-source').textContent = text;
  face = input;
  if (selected >= 0) void select(selected);
}

async function useBitmap(bitmap: ImageBitmap, name: string): Promise<void> {
  const crop = model.faceCrop(bitmap);
  const where = crop.box ? `the first face in ${name} (${crop.box.width}×${crop.box.height} at ${crop.box.x}, ${crop.box.y})` : `all of ${name} (no face found)`;
  showFace(crop.input, `48×48, equalized: ${where}`);
}

function kernelSource(name: string): Promise<string> {
  let p = sources.get(name);
  if (!p) {
    p = fetch(`shaders/${name}`).then((r) => (r.ok ? r.text() : `// shaders/${name}: ${r.status} ${r.statusText}`));
    sources.set(name, p);
  }
  return p;
}

function showKernels(info: LayerInfo): void {
  const tabs = $('kernel-tabs');
  const pre = $('kernel-source');
  const onCpu =
    model.backend === 'cpu' ? ' On this page the CPU backend runs the TypeScript reference instead; this WGSL is what runs on WebGPU.'
    : model.backend === 'wasm' ? ' On this page the WebAssembly kernels (wasm/*.wat) run instead; this WGSL is what runs on WebGPU.'
    : '';
  $('kernels-note').textContent = `${info.how}.${info.kernels.length > 0 ? onCpu : ''}`;
  tabs.replaceChildren();
  pre.replaceChildren();
  pre.dataset.file = '';
  if (info.kernels.length === 0) {
    pre.textContent = '// no kernel runs for this layer at inference';
    return;
  }
  const open = async (name: string, tab: HTMLButtonElement) => {
    for (const t of tabs.children) t.setAttribute('aria-selected', String(t === tab));
    const text = await kernelSource(name);
    if (tab.getAttribute('aria-selected') !== 'true') return;
    pre.innerHTML = wgslHtml(text);
    pre.dataset.file = name;
    pre.scrollTop = 0;
  };
  info.kernels.forEach((name, i) => {
    const tab = Object.assign(document.createElement('button'), { className: 'tab', type: 'button', textContent: name });
    tab.setAttribute('role', 'tab');
    tab.addEventListener('click', () => void open(name, tab));
    tabs.append(tab);
    if (i === 0) void open(name, tab);
  });
}

async function showFilters(info: LayerInfo, gen: number): Promise<void> {
  const box = $('filters');
  const pick = $<HTMLSelectElement>('filter-channel');
  const params: ParamValues[] = await model.parameters(info.index);
  if (gen !== generation) return;
  const weight = params.find((p) => p.name.endsWith('.weight'));
  const conv = info.type === 'Conv2D' && weight !== undefined;
  const C = conv ? weight.shape[1] : 0;
  pick.hidden = !(conv && C > 1);
  if (!pick.hidden) {
    pick.replaceChildren(new Option(`Σ over the ${C} input channels`, 'sum'), ...Array.from({ length: C }, (_, c) => new Option(`input channel ${c}`, String(c))));
  }
  const draw = () => {
    const choice: ChannelChoice = pick.hidden || pick.value === 'sum' ? (C === 1 ? 0 : 'sum') : Number(pick.value);
    renderFilters(box, info, params, choice);
    if (conv) {
      const [K, , R, S] = weight.shape;
      $('filters-note').textContent = `${K} filters of ${C}×${R}×${S}${C === 1 ? ', shown as they are' : choice === 'sum' ? ', each summed over its input channels' : `, input channel ${choice}`}`;
    } else $('filters-note').textContent = params.map((p) => `${p.name.split('.').pop()} [${p.shape.join('×')}]`).join(', ');
  };
  pick.onchange = draw;
  draw();
}

async function showMaps(info: LayerInfo, gen: number): Promise<void> {
  const box = $('maps');
  if (!face) return;
  const { shape, data } = await model.activation(face, info.index);
  if (gen !== generation) return;
  const last = info.index === model.layers.length - 1;
  renderFeatureMaps(box, shape, data, $<HTMLSelectElement>('map-scale').value as MapScale, last ? model.classes : null);
  $('maps-note').textContent =
    shape.length === 3 ? `${shape[0]} channels of ${shape[1]}×${shape[2]}` : last ? 'the logits (softmax turns them into the probabilities)' : `${shape[0]} values`;
}

async function showTiming(info: LayerInfo, gen: number): Promise<void> {
  const cell = $('timing');
  // The time does not depend on the values; without a face, a flat gray one will do.
  const input = face ?? new Float32Array(48 * 48).fill(0.5);
  const t = await model.timeLayer(info.index, input, TIMING_RUNS);
  if (gen !== generation) return;
  cell.dataset.medianMs = String(t.medianMs);
  cell.querySelector('b')!.textContent = `${t.medianMs.toFixed(t.medianMs < 10 ? 2 : 1)} ms`;
  cell.title = `median of ${TIMING_RUNS} runs after a warm-up${model.backend === 'webgpu' ? ', each waiting for the GPU to finish' : ''}: ${t.runsMs.map((x) => x.toFixed(2)).join(', ')} ms`;
  cell.querySelector('span')!.textContent = `forward on ${model.backend} · median of ${TIMING_RUNS}`;
  const flops = (2 * info.macs) / (t.medianMs * 1e-3);
  $('throughput').querySelector('b')!.textContent = flops >= 1e9 ? `${(flops / 1e9).toFixed(2)} GFLOP/s` : `${(flops / 1e6).toFixed(0)} MFLOP/s`;
}

async function select(index: number): Promise<void> {
  const gen = ++generation;
  selected = index;
  const info = model.layers[index];
  for (const row of $('layers').children) row.setAttribute('aria-selected', String(Number((row as HTMLElement).dataset.index) === index));
  history.replaceState(null, '', `#layer=${index}`);
  $('layer-title').replaceChildren(`${info.name} `, Object.assign(document.createElement('span'), { className: 'type', textContent: `(${info.type})` }));
  $('layer-how').textContent = info.how;
  $('facts').replaceChildren(
    fact('input → output', `${shapeText(info.inputShape)} → ${shapeText(info.outputShape)}`),
    fact('parameters', count(info.params)),
    fact('multiply-adds / face', count(info.macs)),
    fact(`forward on ${model.backend}`, 'measuring…', 'timing'),
    fact('throughput', '…', 'throughput'),
  );
  $('timing').classList.add('timing-fact');
  $('throughput').hidden = info.macs === 0;
  showKernels(info);
  try {
    await showFilters(info, gen);
    await showMaps(info, gen);
    await showTiming(info, gen);
  } catch (e) {
    if (gen === generation) $('layer-how').textContent = `error: ${(e as Error).message}`;
  }
}

function buildLayerTable(): void {
  const body = $('layers');
  for (const info of model.layers) {
    const row = document.createElement('tr');
    row.dataset.index = String(info.index);
    row.dataset.type = info.type;
    row.tabIndex = 0;
    const name = document.createElement('td');
    name.className = 'name';
    name.append(info.name, Object.assign(document.createElement('span'), { className: 'type', textContent: info.type }));
    row.append(
      Object.assign(document.createElement('td'), { textContent: String(info.index) }),
      name,
      Object.assign(document.createElement('td'), { textContent: shapeText(info.outputShape) }),
      Object.assign(document.createElement('td'), { className: 'num', textContent: count(info.params) }),
    );
    row.addEventListener('click', () => void select(info.index));
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        void select(info.index);
      }
    });
    body.append(row);
  }
}

const loaded = await loadPageModel();
if (loaded) {
  model = loaded;
  buildLayerTable();
  const file = $<HTMLInputElement>('file');
  file.disabled = false;
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    file.value = '';
    if (!f) return;
    try {
      await useBitmap(await decodeImageFile(f), f.name);
    } catch (e) {
      $('face-source').textContent = (e as Error).message;
    }
  });
  $('map-scale').addEventListener('change', () => void showMaps(model.layers[selected], generation));
  const fromHash = Number(/layer=(\d+)/.exec(location.hash)?.[1] ?? 0);
  const stored = await loadStoredPhoto().catch(() => null);
  if (stored) await useBitmap(stored.bitmap, `the demo's photo (${stored.name})`);
  else $('face-source').textContent = 'Pick a photo, or classify one in the demo first: its first face is used.';
  await select(fromHash < model.layers.length ? fromHash : 0);
}
