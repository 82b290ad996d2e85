// The demo page: a photo (picked or dropped) or the webcam, a box per face, seven bars per face.
import { drawFaces } from './draw-faces.ts';
import { showFaces } from './face-cards.ts';
import { decodeImageFile, type FerModel, type Prediction } from './index.ts';
import { loadPageModel } from './page-model.ts';
import { storePhoto } from './photo-handoff.ts';
import { Webcam } from './webcam.ts';
import { WorkerPredictor } from './worker-predictor.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>('view');
const ctx = view.getContext('2d')!;
const stage = $('stage');
const faces = $('faces');
const timing = $('timing');
const fileInput = $<HTMLInputElement>('file');
const camButton = $<HTMLButtonElement>('webcam');
const status = $('status');
// The photo's own pixels, without the boxes: what is classified and handed to the explorer.
const photo = document.createElement('canvas');

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  status.textContent = text;
  status.dataset.kind = kind;
}

function showTiming(p: Prediction, extra = ''): void {
  const n = p.faces.length;
  timing.dataset.detectMs = String(p.detectMs);
  timing.dataset.classifyMs = String(p.classifyMs);
  timing.replaceChildren(
    ...[
      ['detection', `${p.detectMs.toFixed(0)} ms`],
      ['classification', `${p.classifyMs.toFixed(1)} ms${n > 1 ? ` (${n} faces)` : ''}`],
      ...(n > 0 ? [['per face', `${(p.classifyMs / n).toFixed(1)} ms`]] : []),
      ...(extra ? [['video', extra]] : []),
    ].map(([k, v]) => {
      const item = document.createElement('span');
      item.className = 'metric';
      item.append(Object.assign(document.createElement('span'), { className: 'metric-label', textContent: k }), Object.assign(document.createElement('b'), { textContent: v }));
      return item;
    }),
  );
}

function fit(width: number, height: number): void {
  if (view.width !== width || view.height !== height) {
    view.width = width;
    view.height = height;
  }
  stage.classList.add('has-picture');
}

async function classifyPhoto(model: FerModel, file: Blob, name: string): Promise<void> {
  webcam?.stop();
  camButton.textContent = 'Start webcam';
  say(`Reading ${name}…`);
  const bitmap = await decodeImageFile(file);
  photo.width = bitmap.width;
  photo.height = bitmap.height;
  photo.getContext('2d')!.drawImage(bitmap, 0, 0);
  fit(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  say(`Finding faces in ${name} (${bitmap.width}×${bitmap.height})…`);
  stage.classList.add('busy');
  // Let the picture paint before the detector holds the thread.
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  try {
    const p = await model.predict(bitmap);
    ctx.drawImage(bitmap, 0, 0);
    drawFaces(ctx, p.faces, model.classes);
    showFaces(faces, p.faces, model.classes, 'No face found. The detector looks for upright, frontal faces of at least 30 pixels.');
    showTiming(p);
    say(`${name}: ${p.faces.length === 0 ? 'no face found' : `${p.faces.length} face${p.faces.length > 1 ? 's' : ''}`}`);
    stage.dataset.state = 'done';
    stage.dataset.results = String(Number(stage.dataset.results ?? 0) + 1);
    storePhoto(photo, name);
  } finally {
    stage.classList.remove('busy');
  }
}

let webcam: Webcam | null = null;

function setUp(model: FerModel): void {
  const run = (file: Blob, name: string) => classifyPhoto(model, file, name).catch((e: Error) => say(e.message, 'error'));
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void run(f, f.name);
    fileInput.value = '';
  });
  for (const t of ['dragenter', 'dragover']) {
    stage.addEventListener(t, (e) => {
      e.preventDefault();
      stage.classList.add('dragging');
    });
  }
  stage.addEventListener('dragleave', () => stage.classList.remove('dragging'));
  stage.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('dragging');
    const f = e.dataTransfer?.files[0];
    if (f) void run(f, f.name);
  });

  // The webcam's predictions run in a worker (started with the webcam), so detection never
  // stalls the video; where workers cannot run the model, on this thread.
  let predictor: WorkerPredictor | null = null;
  let where = '';
  const predictFrame = async (video: HTMLVideoElement) => {
    if (!predictor && where === '') {
      try {
        const started = await WorkerPredictor.start(model.backend);
        predictor = started.predictor;
        where = `in a worker on ${started.backend}`;
      } catch (e) {
        where = `on the page's thread (${(e as Error).message})`;
      }
    }
    return predictor ? predictor.predict(video) : model.predict(video);
  };
  webcam = new Webcam(predictFrame, {
    draw(video, last) {
      fit(video.videoWidth, video.videoHeight);
      ctx.drawImage(video, 0, 0);
      if (last) drawFaces(ctx, last.faces, model.classes);
    },
    result(p, fps) {
      showFaces(faces, p.faces, model.classes, 'No face in view.');
      showTiming(p, `${fps} fps · model ${where}`);
      stage.dataset.state = 'webcam';
    },
    error(e) {
      camButton.textContent = 'Start webcam';
      say(e.message, 'error');
    },
  });
  camButton.disabled = false;
  fileInput.disabled = false;
  camButton.addEventListener('click', async () => {
    if (webcam!.running) {
      // The last frame becomes the photo the explorer can open.
      photo.width = view.width;
      photo.height = view.height;
      photo.getContext('2d')!.drawImage(webcam!.video, 0, 0);
      webcam!.stop();
      camButton.textContent = 'Start webcam';
      storePhoto(photo, 'webcam frame');
      say('Webcam stopped.');
      return;
    }
    try {
      say('Starting the webcam…');
      await webcam!.start();
      camButton.textContent = 'Stop webcam';
      say(`Webcam: a new prediction every few frames, whenever the last one is done.`);
    } catch (e) {
      say(`Webcam unavailable: ${(e as Error).message}`, 'error');
    }
  });
  say('Ready: choose a photo, drop one on the stage, or start the webcam.');
}

const model = await loadPageModel();
if (model) {
  document.getElementById('model-name')!.textContent = `${model.sequential.name} · ${model.sequential.summary().total.toLocaleString('en-US')} parameters · trained on ${model.metadata.data ?? 'unknown data'}`;
  setUp(model);
} else say('The model did not load; see above.', 'error');
