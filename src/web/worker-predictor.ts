// The page's side of webcam-worker.ts: one frame in flight at a time, as a promise.
import type { BackendName } from '../backend/tensor.ts';
import type { Prediction } from './index.ts';

type Reply = { type: 'ready'; backend: BackendName; reason: string } | { type: 'result'; prediction: Prediction } | { type: 'error'; message: string };

export class WorkerPredictor {
  #worker: Worker;
  #pending: { ok: (r: Reply) => void } | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.#pending;
      this.#pending = null;
      p?.ok(e.data);
    };
    worker.onerror = (e) => {
      const p = this.#pending;
      this.#pending = null;
      p?.ok({ type: 'error', message: `webcam worker: ${e.message || 'failed to start'}` });
    };
  }

  #ask(message: unknown, transfer: Transferable[] = []): Promise<Reply> {
    if (this.#pending) return Promise.reject(new Error('webcam worker: one frame at a time'));
    return new Promise((ok) => {
      this.#pending = { ok };
      this.#worker.postMessage(message, transfer);
    });
  }

  /** Starts the worker with the page's model on the backend the page itself ended up on. */
  static async start(backend: BackendName): Promise<{ predictor: WorkerPredictor; backend: BackendName; reason: string }> {
    const predictor = new WorkerPredictor(new Worker('webcam-worker.js', { type: 'module' }));
    const here = (f: string) => new URL(f, location.href).href;
    const r = await predictor.#ask({ type: 'init', model: here('model.safetensors'), cascade: here('cascade.xml'), backend });
    if (r.type !== 'ready') {
      predictor.stop();
      throw new Error(r.type === 'error' ? r.message : 'webcam worker: unexpected reply');
    }
    return { predictor, backend: r.backend, reason: r.reason };
  }

  /** Detection and classification of one video frame, off the page's thread. */
  async predict(video: HTMLVideoElement): Promise<Prediction> {
    const bitmap = await createImageBitmap(video);
    const r = await this.#ask({ type: 'frame', bitmap }, [bitmap]);
    if (r.type === 'result') return r.prediction;
    throw new Error(r.type === 'error' ? r.message : 'webcam worker: unexpected reply');
  }

  stop(): void {
    this.#worker.terminate();
  }
}
