// Messages between the Train tab and its worker.

export type DataSource =
  | { kind: 'synthetic'; count: number; seed: number }
  | { kind: 'csv'; file: File }
  | { kind: 'folder'; files: File[] };

export interface TrainConfig {
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  network: 'tiny' | 'small';
  source: DataSource;
  optimizer: 'adam' | 'sgd';
  lr: number;
  batchSize: number;
  steps: number;
  seed: number;
  /** Validation (and a new filter picture) every this many steps. */
  evalEvery: number;
}

export type ToWorker = { type: 'start'; config: TrainConfig } | { type: 'pause' } | { type: 'resume' } | { type: 'save' };

export interface LayerTime {
  name: string;
  type: string;
  forwardMs: number;
  backwardMs: number;
}

export type FromWorker =
  | { type: 'backend'; backend: string; reason: string }
  | { type: 'loading'; images: number }
  | { type: 'data'; train: number; val: number; description: string }
  | { type: 'step'; step: number; loss: number; accuracy: number; ms: number }
  | { type: 'val'; step: number; loss: number; accuracy: number; correct: number; count: number }
  | { type: 'filters'; shape: number[]; data: Float32Array }
  | { type: 'timing'; rows: LayerTime[] }
  | { type: 'paused'; step: number }
  | { type: 'saved'; bytes: Uint8Array }
  | { type: 'done' }
  | { type: 'error'; message: string };
