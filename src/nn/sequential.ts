import { checkTensors } from '../backend/checks.ts';
import { toBackend } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import { keep } from '../backend/scope.ts';
import { formatShape, type BackendName, type Shape, type Tensor } from '../backend/tensor.ts';
import type { ForwardContext, Layer, LayerConfig, Param } from './layer.ts';

/** Everything needed to rebuild a model's structure (its weights travel separately). */
export interface ModelSpec {
  name: string;
  /** One example's shape, e.g. [1, 48, 48]. */
  inputShape: number[];
  classes: string[];
  layers: LayerConfig[];
}

export interface SummaryRow {
  name: string;
  type: string;
  outputShape: Shape;
  params: number;
}

/** A list of layers applied in order; the last one's output is the logits. */
export class Sequential {
  readonly shapes: Shape[];
  #backend: BackendName | null = null;

  constructor(
    readonly name: string,
    readonly layers: Layer[],
    readonly inputShape: Shape,
    readonly classes: string[],
  ) {
    const counts = new Map<string, number>();
    for (const l of layers) {
      const base = l.kerasName;
      const n = counts.get(base) ?? 0;
      l.name = n === 0 ? base : `${base}_${n}`;
      counts.set(base, n + 1);
    }
    this.shapes = [inputShape];
    for (const l of layers) this.shapes.push(l.outputShape(this.shapes[this.shapes.length - 1]));
    const out = this.shapes[this.shapes.length - 1];
    if (out.length !== 1 || out[0] !== classes.length) {
      throw new FerError(`model ${name}: output shape ${formatShape(out)} does not match ${classes.length} classes`);
    }
  }

  /** Creates every layer's parameters on `backend`, initialised from `rng`. */
  build(rng: Random, backend: BackendName): this {
    this.layers.forEach((l, i) => l.build(this.shapes[i], rng, backend));
    this.#backend = backend;
    return this;
  }

  get backend(): BackendName {
    if (!this.#backend) throw new Error(`model ${this.name} is not built`);
    return this.#backend;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    checkTensors(this.name, { x });
    const want = this.inputShape;
    if (x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
      throw new FerError(`${this.name}: input has shape ${formatShape(x.shape)}, wanted [N,${want.join(',')}]`);
    }
    if (x.backend !== this.backend) throw new FerError(`${this.name}: input is on ${x.backend} but the model is on ${this.backend}`);
    let h = x;
    for (const l of this.layers) h = l.forward(h, ctx);
    return h;
  }

  /** Back-propagates the loss gradient with respect to the logits; leaves each parameter's grad set. */
  backward(dlogits: Tensor): void {
    let g: Tensor | null = dlogits;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i].backward(g, i > 0);
  }

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  spec(): ModelSpec {
    return { name: this.name, inputShape: [...this.inputShape], classes: [...this.classes], layers: this.layers.map((l) => l.config()) };
  }

  summary(): { rows: SummaryRow[]; total: number; trainable: number; nonTrainable: number; macs: number } {
    const rows = this.layers.map((l, i) => ({
      name: l.name,
      type: l.type,
      outputShape: this.shapes[i + 1],
      params: l.params().reduce((s, p) => s + p.value.size, 0),
    }));
    const all = this.params();
    const trainable = all.filter((p) => p.trainable).reduce((s, p) => s + p.value.size, 0);
    const total = all.reduce((s, p) => s + p.value.size, 0);
    const macs = this.layers.reduce((s, l, i) => s + l.macs(this.shapes[i]), 0);
    return { rows, total, trainable, nonTrainable: total - trainable, macs };
  }

  /** Moves every parameter to another backend. */
  async moveTo(backend: BackendName): Promise<void> {
    for (const p of this.params()) {
      const old = p.value;
      p.value = keep(await toBackend(old, backend));
      old.dispose();
    }
    this.#backend = backend;
  }

  dispose(): void {
    for (const p of this.params()) p.value.dispose();
  }
}
