/**
 * Reuses GPU buffers: creating one is far slower than handing back one of the same size class.
 * Size classes step by a quarter of a power of two, so at most 25% of a buffer is slack.
 */
export class BufferPool {
  #free = new Map<number, GPUBuffer[]>();
  created = 0;
  destroyed = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  static sizeClass(bytes: number): number {
    if (bytes <= 256) return 256;
    const p = 2 ** Math.floor(Math.log2(bytes));
    const step = p / 4;
    return Math.ceil(bytes / step) * step;
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.#free.get(size);
    if (list && list.length > 0) return list.pop()!;
    this.created++;
    return this.device.createBuffer({ size, usage: this.usage });
  }

  release(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size);
    if (list) list.push(buffer);
    else this.#free.set(buffer.size, [buffer]);
  }

  /** Buffers that exist on the device, in use or waiting in the pool. */
  get live(): number {
    return this.created - this.destroyed;
  }

  /** Frees the buffers waiting in the pool. */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    for (const list of this.#free.values()) this.destroyed += list.length;
    this.#free.clear();
  }
}
