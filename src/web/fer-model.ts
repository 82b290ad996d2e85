import { chooseTestTime, testTimeViews, type TestTime } from '../nn/test-time.ts';
import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { scope } from '../backend/scope.ts';
import type { BackendName, Tensor } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import type { Cascade } from '../detect/cascade.ts';
import { detectFaces } from '../detect/detect.ts';
import { FACE_SIZE, faceInput, recognizeFaces, type FaceBox, type FaceEmotion } from '../detect/recognize.ts';
import { toGray } from '../image/image.ts';
import type { Sequential } from '../nn/sequential.ts';
import { describeLayers, type LayerInfo } from './layer-info.ts';
import { readPixels, type PixelSource } from './pixels.ts';

export interface Prediction {
  faces: FaceEmotion[];
  detectMs: number;
  classifyMs: number;
}

export interface PredictOptions {
  /** false: take the whole picture as one face (for ready-made face crops). Default true. */
  detect?: boolean;
  /** Average each face's probabilities with its mirror image's (twice the network work). Default false. */
  flip?: boolean;
  /**
   * Test-time averaging: 'none', 'flip', or 'ten-crop' (corner and centre crops and their mirrors,
   * for models trained on crops). Default: what the model file records (`test_time`), else flip's.
   */
  testTime?: TestTime;
}

/** One 48×48 network input and where it came from. */
export interface FaceCrop {
  /** 48·48 values in [0, 1], row-major, as the network sees them (equalized). */
  input: Float32Array;
  /** The detected face it was cut from, or null when the whole picture was taken. */
  box: FaceBox | null;
}

export interface LayerTiming {
  medianMs: number;
  runsMs: number[];
}

export interface ModelInit {
  sequential: Sequential;
  /** What predict() runs: `sequential` folded for inference (nn/fold.ts); default `sequential` itself. */
  inference?: Sequential;
  metadata: Record<string, string>;
  cascade: Cascade | null;
  backend: BackendName;
  backendReason: string;
  gpu: WebGpuBackend | null;
  warning: string | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A loaded emotion model in a page: predictions for the demo, layer-by-layer views for the explorer. */
export class FerModel {
  readonly sequential: Sequential;
  readonly metadata: Record<string, string>;
  readonly backend: BackendName;
  /** The WebGPU adapter's name, or why the CPU path is used. */
  readonly backendReason: string;
  /** The model's caveat when its metadata does not say it learned from FER2013, else null. */
  readonly warning: string | null;
  readonly layers: LayerInfo[];
  readonly #cascade: Cascade | null;
  readonly #gpu: WebGpuBackend | null;
  // The explorer shows `sequential`, the layers as trained; predictions need only the folded copy.
  readonly #inference: Sequential;

  constructor(init: ModelInit) {
    this.sequential = init.sequential;
    this.#inference = init.inference ?? init.sequential;
    this.metadata = init.metadata;
    this.backend = init.backend;
    this.backendReason = init.backendReason;
    this.warning = init.warning;
    this.#cascade = init.cascade;
    this.#gpu = init.gpu;
    this.layers = describeLayers(init.sequential, init.gpu);
  }

  get classes(): string[] {
    return this.sequential.classes;
  }

  get trainedOnFer2013(): boolean {
    return this.warning === null;
  }

  #cascadeFor(op: string, detect: boolean): Cascade | null {
    if (!detect) return null;
    if (!this.#cascade) throw new FerError(`${op}: this model was loaded with cascade: null, so it cannot detect faces; pass { detect: false }`);
    return this.#cascade;
  }

  /** Finds the faces in a picture or video frame and gives each one's class probabilities. */
  async predict(source: PixelSource, opts: PredictOptions = {}): Promise<Prediction> {
    const cascade = this.#cascadeFor('predict', opts.detect ?? true);
    const testTime = opts.testTime ?? (opts.flip !== undefined ? (opts.flip ? 'flip' : 'none') : chooseTestTime(this.metadata));
    return recognizeFaces(this.#inference, toGray(readPixels(source)), { cascade, testTime });
  }

  /** The network input for the first face found (the whole picture when none is, or detect is false). */
  faceCrop(source: PixelSource, opts: PredictOptions = {}): FaceCrop {
    const gray = toGray(readPixels(source));
    const cascade = this.#cascadeFor('faceCrop', opts.detect ?? true);
    const found = cascade ? detectFaces(gray, cascade)[0] : undefined;
    const box = found ? { x: found.x, y: found.y, width: found.width, height: found.height } : null;
    return { input: faceInput(gray, box ?? { x: 0, y: 0, width: gray.width, height: gray.height }), box };
  }

  #checkLayer(op: string, index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.layers.length) {
      throw new FerError(`${op}: layer must be an integer in [0, ${this.layers.length - 1}], got ${index}`);
    }
  }

  #inputTensor(op: string, input: Float32Array): Tensor {
    if (!(input instanceof Float32Array) || input.length !== FACE_SIZE * FACE_SIZE) {
      throw new FerError(`${op}: input must be a Float32Array of ${FACE_SIZE}·${FACE_SIZE} values, got ${input?.length ?? typeof input}`);
    }
    // The view eval and predict give without averaging: the face, or its centre crop for a crop model.
    const side = this.sequential.inputShape[1];
    return tensor(testTimeViews(input, 1, FACE_SIZE, side, 'none')[0], [1, 1, side, side], this.backend);
  }

  /** Runs layers 0 … upTo − 1 on one face (its centre crop for a crop model): layer upTo's input. */
  #forwardTo(op: string, input: Float32Array, upTo: number): Tensor {
    return scope(() => {
      let h = this.#inputTensor(op, input);
      for (let i = 0; i < upTo; i++) h = this.sequential.layers[i].forward(h, { training: false });
      return h;
    });
  }

  /** Layer `index`'s output for one face: shape without the batch axis, and the values. */
  async activation(input: Float32Array, index: number): Promise<{ shape: number[]; data: Float32Array }> {
    this.#checkLayer('activation', index);
    const y = this.#forwardTo('activation', input, index + 1);
    try {
      return { shape: y.shape.slice(1), data: await y.read() };
    } finally {
      y.dispose();
    }
  }

  /** Layer `index`'s parameters as stored: weight [K,C,R,S] or [units, inputs], bias, gamma, … */
  async parameters(index: number): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    this.#checkLayer('parameters', index);
    const ps = this.sequential.layers[index].params();
    return Promise.all(ps.map(async (p) => ({ name: p.name, shape: [...p.value.shape], data: await p.value.read() })));
  }

  /**
   * The median time of layer `index`'s forward on one face, over `runs` runs after a warm-up
   * (which compiles the pipelines). On WebGPU each run is synced, queue empty before and after,
   * so it measures the kernels and not just their recording.
   */
  async timeLayer(index: number, input: Float32Array, runs = 5): Promise<LayerTiming> {
    this.#checkLayer('timeLayer', index);
    if (!Number.isInteger(runs) || runs < 1) throw new FerError(`timeLayer: runs must be a positive integer, got ${runs}`);
    const layer = this.sequential.layers[index];
    const x = this.#forwardTo('timeLayer', input, index);
    const times: number[] = [];
    try {
      for (let r = -1; r < runs; r++) {
        await this.#gpu?.sync();
        const t0 = performance.now();
        const y = layer.forward(x, { training: false });
        await this.#gpu?.sync();
        const t1 = performance.now();
        // Dropout hands back its input; Flatten a view that shares it (disposing a view only drops a reference).
        if (y !== x) y.dispose();
        if (r >= 0) times.push(t1 - t0);
      }
    } finally {
      x.dispose();
    }
    return { medianMs: median(times), runsMs: times };
  }

  dispose(): void {
    this.sequential.dispose();
    if (this.#inference !== this.sequential) this.#inference.dispose();
  }
}
