// The webcam's model, in a worker: face detection is plain JavaScript and takes a few hundred
// milliseconds per frame, which on the page's thread would freeze the video. Here it only
// delays the next result. Messages: init {model, cascade, backend} → ready {backend, reason} |
// error {message}; frame {bitmap} (transferred) → result {prediction} | error {message}.
import { loadModel, type BackendWish, type FerModel } from './index.ts';

type Message = { type: 'init'; model: string; cascade: string; backend: BackendWish } | { type: 'frame'; bitmap: ImageBitmap };

// The worker's global scope, typed by hand: the project compiles against the DOM library only.
const port = self as unknown as { onmessage: ((e: MessageEvent<Message>) => void) | null; postMessage(m: unknown): void };
let model: Promise<FerModel> | null = null;

port.onmessage = async ({ data }) => {
  try {
    if (data.type === 'init') {
      model = loadModel(data.model, { backend: data.backend, cascade: data.cascade });
      const m = await model;
      port.postMessage({ type: 'ready', backend: m.backend, reason: m.backendReason });
    } else if (data.type === 'frame') {
      try {
        if (!model) throw new Error('webcam worker: a frame before init');
        port.postMessage({ type: 'result', prediction: await (await model).predict(data.bitmap) });
      } finally {
        data.bitmap.close();
      }
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message });
  }
};
