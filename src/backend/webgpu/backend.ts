import fillWgsl from '../../../shaders/fill.wgsl';
import { debug, registerBackend, type Backend } from '../backends.ts';
import { FerError } from '../errors.ts';
import { Tensor, type Storage } from '../tensor.ts';
import type { AdapterInfo, OpenedGpu } from './adapter.ts';
import { BufferPool } from './buffer-pool.ts';
import { grid1d, packParams, u32, type Kernel } from './kernel.ts';

const FILL: Kernel = { key: 'fill', code: fillWgsl, bindings: ['write'] };

/** A tensor's GPU buffer, taken from the pool and given back to it when the last view is disposed. */
export class GpuStorage implements Storage {
  readonly backend = 'webgpu';
  refs = 1;
  #buffer: GPUBuffer | null;

  constructor(
    readonly owner: WebGpuBackend,
    buffer: GPUBuffer,
    readonly length: number,
  ) {
    this.#buffer = buffer;
  }

  get buffer(): GPUBuffer {
    if (!this.#buffer) throw new FerError('GPU storage used after release');
    return this.#buffer;
  }

  read(): Promise<Float32Array> {
    return this.owner.read(this);
  }

  release(): void {
    if (this.#buffer) this.owner.pool.release(this.#buffer);
    this.#buffer = null;
  }
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const UNIFORM_CACHE = 2048;
const PASSES_PER_SUBMIT = 64;

/**
 * The WebGPU backend: a device, a buffer pool, caches of pipelines and uniform buffers, and
 * one open command encoder that kernels are recorded into until someone needs a result.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly device: GPUDevice;
  readonly info: AdapterInfo;
  readonly note: string | undefined;
  readonly pool: BufferPool;
  readonly #staging: BufferPool;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #uniforms = new Map<string, GPUBuffer>();
  #retired: GPUBuffer[] = [];
  #encoder: GPUCommandEncoder | null = null;
  #pending = 0;
  #errors: string[] = [];
  #lost: string | null = null;
  #placeholder: GPUBuffer | null = null;
  /** Kernel launches since start, for benchmarks and tests. */
  dispatches = 0;

  constructor(opened: OpenedGpu) {
    this.device = opened.device;
    this.info = opened.info;
    this.note = opened.note;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool(this.device, usage);
    this.#staging = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.device.addEventListener('uncapturederror', (e) => {
      this.#errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
    void this.device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.#lost = info.message || String(info.reason);
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  alloc(length: number): Storage {
    const bytes = Math.max(4, length * 4);
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new FerError(
        `a tensor of ${(bytes / 2 ** 20).toFixed(0)} MiB exceeds this GPU's largest storage binding ` +
          `(${(this.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB): use a smaller batch`,
      );
    }
    const storage = new GpuStorage(this, this.pool.acquire(bytes), length);
    if (debug.poison && length > 0) this.fill(storage.buffer, length, NaN);
    return storage;
  }

  upload(data: Float32Array): Storage {
    const storage = this.alloc(data.length) as GpuStorage;
    // A pooled buffer may still be read by recorded-but-unsubmitted kernels; writeBuffer
    // lands before those run unless they are submitted first.
    this.flush();
    if (data.length > 0) this.device.queue.writeBuffer(storage.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return storage;
  }

  /** Fills the first `count` floats of `buffer` with `value` (bit-exact, so NaN works). */
  fill(buffer: GPUBuffer, count: number, value: number): void {
    const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
    this.runBuffers(FILL, [buffer], packParams([u32(count), u32(bits)]), grid1d(count, 256));
  }

  bufferOf(t: Tensor): GPUBuffer {
    const s = t.storage;
    if (!(s instanceof GpuStorage) || s.owner !== this) throw new FerError(`expected a webgpu tensor, got ${t}`);
    return s.buffer;
  }

  /**
   * Records one kernel launch; bindings 1.. are the tensors' buffers in order. Params that
   * change on every call (an optimizer's step count) should be `transient`: their uniform
   * buffer is freed after the next submit instead of cached.
   */
  run(
    kernel: Kernel,
    tensors: readonly (Tensor | GPUBuffer)[],
    params: Uint8Array,
    grid: readonly [number, number?, number?],
    transient = false,
  ): void {
    const buffers = tensors.map((t) => (t instanceof Tensor ? this.bufferOf(t) : t));
    this.runBuffers(kernel, buffers, params, grid, transient);
  }

  /** A small buffer to bind where a kernel's optional input (a bias, say) is absent. */
  get placeholder(): GPUBuffer {
    this.#placeholder ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    return this.#placeholder;
  }

  runBuffers(
    kernel: Kernel,
    buffers: readonly GPUBuffer[],
    params: Uint8Array,
    grid: readonly [number, number?, number?],
    transient = false,
  ): void {
    if (this.#lost) throw new FerError(`the GPU device was lost: ${this.#lost}`);
    if (buffers.length !== kernel.bindings.length) {
      throw new Error(`${kernel.key}: ${buffers.length} buffers for ${kernel.bindings.length} bindings`);
    }
    const [x, y = 1, z = 1] = grid;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) throw new Error(`${kernel.key}: grid [${x},${y},${z}] exceeds ${maxDim} per dimension`);
    const { pipeline, layout } = this.#pipeline(kernel);
    const uniform = transient ? this.#transientUniform(params) : this.#uniform(kernel.key, params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniform } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout, entries });
    this.#encoder ??= this.device.createCommandEncoder();
    const pass = this.#encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatches++;
    if (++this.#pending >= PASSES_PER_SUBMIT) this.flush();
  }

  /** Submits what has been recorded. */
  flush(): void {
    if (this.#encoder) {
      this.device.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
      this.#pending = 0;
    }
    // Uniforms evicted from the cache may have been bound by the commands just submitted;
    // destroy() waits for submitted work, so now it is safe.
    for (const b of this.#retired) b.destroy();
    this.#retired = [];
  }

  /** Waits until the GPU has finished everything recorded so far (for timing). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.#throwErrors();
  }

  async read(storage: GpuStorage): Promise<Float32Array> {
    const bytes = storage.length * 4;
    if (bytes === 0) return new Float32Array(0);
    const staging = this.#staging.acquire(bytes);
    this.#encoder ??= this.device.createCommandEncoder();
    this.#encoder.copyBufferToBuffer(storage.buffer, 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      this.#throwErrors();
      throw new FerError(`reading from the GPU failed: ${(e as Error).message}`);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.#staging.release(staging);
    this.#throwErrors();
    return out;
  }

  /** Live GPU buffers of every kind: tensors and pool, staging, uniforms. */
  get liveBuffers(): number {
    return this.pool.live + this.#staging.live + this.#uniforms.size + this.#retired.length + (this.#placeholder ? 1 : 0);
  }

  #throwErrors(): void {
    if (this.#lost) throw new FerError(`the GPU device was lost: ${this.#lost}`);
    if (this.#errors.length > 0) {
      const msg = this.#errors.join('; ');
      this.#errors = [];
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  #pipeline(kernel: Kernel): Pipeline {
    let p = this.#pipelines.get(kernel.key);
    if (p) return p;
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        ...kernel.bindings.map((b, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ],
    });
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: kernel.code, label: kernel.key });
    const pipeline = this.device.createComputePipeline({
      label: kernel.key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: kernel.entry ?? 'main' },
    });
    void this.device.popErrorScope().then((err) => {
      if (err) this.#errors.push(`${kernel.key}: ${err.message}`);
    });
    p = { pipeline, layout };
    this.#pipelines.set(kernel.key, p);
    return p;
  }

  #newUniform(params: Uint8Array): GPUBuffer {
    const buf = this.device.createBuffer({ size: params.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(params);
    buf.unmap();
    return buf;
  }

  #transientUniform(params: Uint8Array): GPUBuffer {
    const buf = this.#newUniform(params);
    this.#retired.push(buf);
    return buf;
  }

  /** Uniform buffers are cached by content: a layer's parameters repeat every step. */
  #uniform(key: string, params: Uint8Array): GPUBuffer {
    const id = `${key}|${Array.from(params).join(',')}`;
    let buf = this.#uniforms.get(id);
    if (buf) {
      this.#uniforms.delete(id);
      this.#uniforms.set(id, buf);
      return buf;
    }
    buf = this.#newUniform(params);
    this.#uniforms.set(id, buf);
    if (this.#uniforms.size > UNIFORM_CACHE) {
      const [oldest, old] = this.#uniforms.entries().next().value as [string, GPUBuffer];
      this.#uniforms.delete(oldest);
      this.#retired.push(old);
    }
    return buf;
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.#staging.trim();
    for (const b of this.#uniforms.values()) b.destroy();
    this.#uniforms.clear();
    this.device.destroy();
  }
}

let instance: Promise<WebGpuBackend> | null = null;

/** Opens the GPU once and registers the `webgpu` backend. */
export function initWebGpu(): Promise<WebGpuBackend> {
  instance ??= (async () => {
    const { openGpu } = await import('./adapter.ts');
    const b = new WebGpuBackend(await openGpu());
    registerBackend(b);
    return b;
  })().catch((e) => {
    instance = null;
    throw e;
  });
  return instance;
}

/** The backend that owns a webgpu tensor. */
export function gpuOf(t: Tensor): WebGpuBackend {
  const s = t.storage;
  if (!(s instanceof GpuStorage)) throw new FerError(`expected a webgpu tensor, got ${t}`);
  return s.owner;
}
