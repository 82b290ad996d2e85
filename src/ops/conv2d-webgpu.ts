import directWgsl from '../../shaders/conv2d_direct.wgsl';
import filterDirectWgsl from '../../shaders/conv2d_filter_direct.wgsl';
import padWgsl from '../../shaders/pad2d.wgsl';
import { empty } from '../backend/create.ts';
import type { Tensor } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { grid1d, i32, packParams, u32, unrollLines, withConstants, type Kernel } from '../backend/webgpu/kernel.ts';
import type { Conv2dGeometry } from './conv2d.ts';
import { epilogueFlags, type Epilogue } from './epilogue.ts';
import { gemmTiles, pinnedGemmTiles, type GemmTiles } from './gemm.ts';

// The WebGPU side of the three convolution passes: which kernel runs each pass at each shape on
// each adapter. Two families:
//   'direct' (shaders/conv2d_direct.wgsl, conv2d_filter_direct.wgsl): each invocation decodes its
//     outputs once and steps the taps with running offsets; TM = 4, 8 or 16 output channels by TN = 4…24
//     pixels (or weights) per invocation; no workgroup memory.
//   'gemm' (shaders/conv2d*.wgsl on the GEMM core, gemm.wgsl): the implicit GEMM whose loadB
//     decodes every element; its 'shared' tiles stage operands in workgroup memory.
// The choice is per adapter: a table for adapters we measured (SwiftShader: bench/NOTES.md), and
// for any other adapter `autotuneConv`, which times the candidates at the layer's own shape once
// and caches the fastest per adapter and shape.

export type ConvPass = 'forward' | 'backward-input' | 'backward-filter';

/** Outputs along a run per invocation of a direct kernel: 1 to 6 quads. */
export type DirectRun = 4 | 8 | 12 | 16 | 20 | 24;
export type DirectChoice = { family: 'direct'; TM: 4 | 8 | 16; TN: DirectRun };
export type ConvKernelChoice = DirectChoice | { family: 'gemm'; tiles: GemmTiles };

/** The workgroup of the direct kernels: 64 invocations, 16 along the pixels (or weights), 4 along the channels. */
const WG = { WG_N: 16, WG_M: 4 };

export function choiceLabel(c: ConvKernelChoice): string {
  return c.family === 'direct' ? `direct ${c.TM}×${c.TN}` : c.tiles.variant === 'shared' ? 'gemm shared' : `gemm registers ${c.tiles.TM}×${c.tiles.TN}`;
}

/**
 * Whether the direct kernels compute this pass: the input gradient only at stride 1 (it is then a
 * forward convolution) with padding inside the filter; each only where its zero-padded source
 * (directSource) fits in one storage binding of this adapter.
 */
export function directApplies(pass: ConvPass, g: Conv2dGeometry, b: DirectChoice, maxBindingBytes = Infinity): boolean {
  if (pass === 'backward-input' && (g.stride !== 1 || g.padTop > g.R - 1 || g.padLeft > g.S - 1)) return false;
  const { dims: [N, C], Hp, Wp } = directSource(pass, g, b.TN);
  return N * C * Hp * Wp * 4 <= maxBindingBytes;
}

/**
 * The source a direct kernel reads, as pad2d.wgsl writes it: the pass's input (x, or dy for the
 * input gradient) of `dims` with `top` rows and `left` columns of zeros before it and zeros after
 * it up to Hp × Wp, enough that every tap of every invocation (pixels past the row's end
 * included, up to a whole run of TN) lands inside. The input gradient at stride 1 is the forward
 * convolution of dy padded by R−1−padTop and S−1−padLeft.
 */
export function directSource(pass: ConvPass, g: Conv2dGeometry, TN: number): { dims: [number, number, number, number]; top: number; left: number; Hp: number; Wp: number } {
  const { N, C, H, W, K, R, S, stride, OH, OW, padTop, padLeft } = g;
  if (pass === 'backward-input') {
    const top = R - 1 - padTop;
    const left = S - 1 - padLeft;
    return { dims: [N, K, OH, OW], top, left, Hp: Math.max(top + OH, H - 1 + R), Wp: Math.max(left + OW, Math.ceil(W / TN) * TN - 1 + S) };
  }
  // The forward's invocations read whole runs of TN pixels; the filter gradient reads real pixels only.
  const lastOw = pass === 'forward' ? Math.ceil(OW / TN) * TN - 1 : OW - 1;
  return { dims: [N, C, H, W], top: padTop, left: padLeft, Hp: Math.max(padTop + H, (OH - 1) * stride + R), Wp: Math.max(padLeft + W, lastOw * stride + S) };
}

const PAD: Kernel = { key: 'conv2d.pad', code: padWgsl, entry: 'pad2d', bindings: ['read', 'write'] };

/** The zero-padded copy of src that directSource describes (src itself when it adds nothing): the caller disposes it if it is not src. */
export function padDirectSource(gpu: WebGpuBackend, src: Tensor, s: ReturnType<typeof directSource>): Tensor {
  const [N, C, H, W] = s.dims;
  if (s.top === 0 && s.left === 0 && s.Hp === H && s.Wp === W) return src;
  const out = empty([N, C, s.Hp, s.Wp], src.backend);
  const count = N * C * s.Hp * s.Wp;
  gpu.run(PAD, [src, out], packParams([count, H, W, s.Hp, s.Wp, s.top, s.left].map(u32)), grid1d(count, 256));
  return out;
}

/** How many outputs along an invocation's run (pixels of a row; weights of a filter for the filter gradient) a pass has. */
function runLength(pass: ConvPass, g: Conv2dGeometry): number {
  return pass === 'forward' ? g.OW : pass === 'backward-input' ? g.W : g.C * g.R * g.S;
}

/**
 * The table's direct block for a software adapter: the longest run that splits the row (or
 * filter) into equal groups of whole quads, at most 24 outputs for the forward and input gradient
 * (46 pixels → 2 × 24, 23 → 24, 11 → 12), by 16 channels; 12 weights by 8 filters for the filter
 * gradient (2304 weights → 192 × 12). Measured on SwiftShader (bench/NOTES.md): 16×24 ahead of
 * 8×24 in 22 of 27 comparisons on the seed model's layers (32×24 compiles in 10 s); for the filter
 * gradient 8×8, 8×12 and 8×16 within a few percent, 8×12 ahead in 4 of 5 comparisons. A pass
 * with at most 8 (or 4) output channels takes 8 (or 4).
 */
export function softwareDirectChoice(pass: ConvPass, g: Conv2dGeometry): DirectChoice {
  const n = runLength(pass, g);
  const filter = pass === 'backward-filter';
  const groups = Math.ceil(n / (filter ? 12 : 24));
  // Fewer output channels than the block would leave most of it idle (the first layer's input gradient has 1).
  const M = pass === 'backward-input' ? g.C : g.K;
  const TM = M <= 4 ? 4 : M <= 8 || filter ? 8 : 16;
  return { family: 'direct', TM, TN: (4 * Math.ceil(n / (4 * groups))) as DirectRun };
}

let forced: ConvKernelChoice | null = null;

/** Pins every convolution pass to one kernel (tests and benchmarks); null restores the per-adapter choice. A direct choice is ignored where it does not apply. */
export function setConvKernel(choice: ConvKernelChoice | null): void {
  forced = choice;
}

const tuned = new Map<string, ConvKernelChoice>();

// FER_CONV_TUNE=<file> (Node): autotuned choices are read from and written to this JSON file, so
// one process's tuning serves the next (the device script runs the benchmark, then the kernel table).
type Fs = { readFileSync(p: string, e: 'utf8'): string; writeFileSync(p: string, d: string): void; existsSync(p: string): boolean };
const tuneFile = typeof process !== 'undefined' ? process.env?.FER_CONV_TUNE : undefined;
const nodeFs = (): Fs | null => (typeof process !== 'undefined' ? ((process as { getBuiltinModule?: (m: string) => unknown }).getBuiltinModule?.('node:fs') as Fs | undefined) ?? null : null);
let loaded = false;

function loadTuneFile(): void {
  if (loaded || !tuneFile) return;
  loaded = true;
  const fs = nodeFs();
  if (!fs || !fs.existsSync(tuneFile)) return;
  for (const [k, c] of Object.entries(JSON.parse(fs.readFileSync(tuneFile, 'utf8')) as Record<string, ConvKernelChoice>)) {
    // Files written before TN existed hold direct choices of 4 outputs per invocation.
    tuned.set(k, c.family === 'direct' ? { ...c, TN: c.TN ?? 4 } : c);
  }
}

function saveTuneFile(): void {
  const fs = nodeFs();
  if (tuneFile && fs) fs.writeFileSync(tuneFile, `${JSON.stringify(Object.fromEntries(tuned), null, 1)}\n`);
}

function shapeKey(gpu: WebGpuBackend, pass: ConvPass, g: Conv2dGeometry): string {
  const { N, C, H, W, K, R, S, stride, padTop, padLeft } = g;
  return `${gpu.info.name}|${pass}|${[N, C, H, W, K, R, S, stride, padTop, padLeft].join(',')}`;
}

/**
 * The kernel a pass runs. Order: a pinned choice; pinned GEMM tiles (setGemmTiles: the GEMM core
 * with them); FER_CONV=direct|gemm; the autotuned choice for
 * this adapter and shape; the table: software adapters run the direct kernels
 * (softwareDirectChoice, measured on SwiftShader), other adapters the GEMM core's per-adapter tiles
 * until `autotuneConv` has measured the shape.
 */
export function convKernel(gpu: WebGpuBackend, pass: ConvPass, g: Conv2dGeometry): ConvKernelChoice {
  const gemm: ConvKernelChoice = { family: 'gemm', tiles: gemmTiles(gpu) };
  const ok = (c: ConvKernelChoice): ConvKernelChoice => (c.family === 'direct' && !directApplies(pass, g, c, gpu.limits.maxStorageBufferBindingSize) ? gemm : c);
  if (forced) return ok(forced);
  if (pinnedGemmTiles()) return gemm;
  const env = typeof process !== 'undefined' ? process.env?.FER_CONV : undefined;
  if (env === 'direct') return ok(softwareDirectChoice(pass, g));
  if (env === 'gemm') return gemm;
  loadTuneFile();
  const t = tuned.get(shapeKey(gpu, pass, g));
  if (t) return t;
  return gpu.info.software ? ok(softwareDirectChoice(pass, g)) : gemm;
}

/** Every direct block the kernels take (what the tests run): 8 channels by every run, 4 and 16 by the shortest and longest. */
export const ALL_DIRECT_BLOCKS: readonly DirectChoice[] = [
  { family: 'direct', TM: 4, TN: 4 }, { family: 'direct', TM: 4, TN: 24 },
  ...([4, 8, 12, 16, 20, 24] as const).map((TN): DirectChoice => ({ family: 'direct', TM: 8, TN })),
  { family: 'direct', TM: 16, TN: 4 }, { family: 'direct', TM: 16, TN: 24 },
];

/** The direct blocks autotuning and the benchmarks compare. */
export const DIRECT_BLOCKS: readonly DirectChoice[] = [
  { family: 'direct', TM: 4, TN: 4 }, { family: 'direct', TM: 8, TN: 4 }, { family: 'direct', TM: 8, TN: 8 },
  { family: 'direct', TM: 8, TN: 12 }, { family: 'direct', TM: 8, TN: 16 }, { family: 'direct', TM: 8, TN: 24 },
  { family: 'direct', TM: 16, TN: 24 },
];

/** The candidates autotuning times for a pass: the direct blocks (where they apply) and the GEMM core's register and shared tiles. */
export function convCandidates(pass: ConvPass, g: Conv2dGeometry, gemmCandidates: readonly GemmTiles[], maxBindingBytes = Infinity): ConvKernelChoice[] {
  const direct: ConvKernelChoice[] = DIRECT_BLOCKS.filter((b) => directApplies(pass, g, b, maxBindingBytes));
  return [...direct, ...gemmCandidates.map((tiles): ConvKernelChoice => ({ family: 'gemm', tiles }))];
}

/** Records the autotuned choice for a pass at a shape (conv2d-tune.ts measures it). */
export function rememberConvKernel(gpu: WebGpuBackend, pass: ConvPass, g: Conv2dGeometry, c: ConvKernelChoice): void {
  tuned.set(shapeKey(gpu, pass, g), c);
  saveTuneFile();
}

/** The autotuned choice for a pass at a shape on this adapter, if autotuneConv has measured it. */
export function tunedConvKernel(gpu: WebGpuBackend, pass: ConvPass, g: Conv2dGeometry): ConvKernelChoice | undefined {
  loadTuneFile();
  return tuned.get(shapeKey(gpu, pass, g));
}

/** Every autotuned choice, keyed `adapter|pass|N,C,H,W,K,R,S,stride,padTop,padLeft` (to print or save). */
export function tunedConvKernels(): Record<string, string> {
  return Object.fromEntries([...tuned].map(([k, c]) => [k, choiceLabel(c)]));
}

export function forgetTunedConvKernels(): void {
  tuned.clear();
}

// ---- the direct kernels ----

// Written-out kernels by key: writing out an 8×24 block takes about 1 ms of string work, which
// every dispatch would otherwise repeat before the pipeline cache looks at the key.
const directKernels = new Map<string, Kernel>();

function directKernel(name: string, code: string, entry: string, b: DirectChoice, bindings: Kernel['bindings'], extra: Record<string, boolean> = {}): Kernel {
  const { TM, TN } = b;
  const key = `${name}|TM${TM}|TN${TN}|${JSON.stringify(extra)}`;
  const known = directKernels.get(key);
  if (known) return known;
  // conv2d_direct.wgsl writes out only the path it takes: the unrolled 3-tap row (R3_…) or the
  // loop over any row (ANY_…); conv2d_filter_direct.wgsl has one path.
  const row3 = extra.ROW3 === true;
  const Q = TN / 4;
  const unrolled = unrollLines(code, {
    TM, TN, Q,
    R3_TM: row3 ? TM : 0, R3_Q: row3 ? Q : 0, R3_TAPS: row3 ? TN + 2 : 0,
    ANY_TM: row3 ? 0 : TM, ANY_Q: row3 ? 0 : Q, ANY_TN: row3 ? 0 : TN,
  });
  const kernel: Kernel = { key, code: withConstants(unrolled, { TM, TN, ...WG, ...extra }), entry, bindings };
  directKernels.set(key, kernel);
  return kernel;
}

/**
 * Forward pass (forward = true: src = x, the epilogue applies) or, at stride 1, the input
 * gradient (src = dy, the filters read turned 180° with their channel axes swapped); either reads
 * its source zero-padded (pad2d.wgsl, one extra pass).
 */
export function runConvDirect(
  gpu: WebGpuBackend, g: Conv2dGeometry, b: DirectChoice, forward: boolean,
  src: Tensor, w: Tensor, bias: Tensor | null, scale: Tensor | null, shift: Tensor | null, out: Tensor, e: Epilogue = {},
): void {
  const { N, C, H, W, K, R, S, stride, OH, OW } = g;
  const RS = R * S;
  const source = directSource(forward ? 'forward' : 'backward-input', g, b.TN);
  const padded = padDirectSource(gpu, src, source);
  const [M, oh, ow, st] = forward ? [K, OH, OW, stride] : [C, H, W, 1];
  const geo = [N, source.dims[1], source.Hp, source.Wp, M, oh, ow, R, S, st];
  const weights = forward ? { w0: 0, wsM: C * RS, wsC: RS, wsR: S, wsS: 1 } : { w0: RS - 1, wsM: RS, wsC: C * RS, wsR: -S, wsS: -1 };
  const flags = forward ? epilogueFlags(bias !== null, e) : [0, 0, 0];
  const params = packParams([
    ...geo.map(u32), u32(weights.w0), u32(weights.wsM), i32(weights.wsC), i32(weights.wsR), i32(weights.wsS), ...flags.map(u32),
  ]);
  // Rows of 3 taps at stride 1 (every 3×3 layer of our models) take the unrolled row.
  const ROW3 = S === 3 && st === 1;
  const kernel = directKernel('conv2d.direct', directWgsl, 'conv_direct', b, ['read', 'read', 'read', 'read', 'read', 'write'], { ROW3 });
  const none = gpu.placeholder;
  const grid: [number, number, number] = [Math.ceil((N * oh * Math.ceil(ow / b.TN)) / WG.WG_N), Math.ceil(M / (b.TM * WG.WG_M)), 1];
  gpu.run(kernel, [padded, w, bias ?? none, scale ?? none, shift ?? none, out], params, grid);
  if (padded !== src) padded.dispose();
}

/** The filter gradient, from x zero-padded (pad2d.wgsl, one extra pass) and dy. */
export function runConvFilterDirect(gpu: WebGpuBackend, g: Conv2dGeometry, b: DirectChoice, x: Tensor, dy: Tensor, dw: Tensor): void {
  const { N, C, K, R, S, stride, OH, OW } = g;
  const source = directSource('backward-filter', g, b.TN);
  const padded = padDirectSource(gpu, x, source);
  const params = packParams([N, C, source.Hp, source.Wp, K, R, S, stride, OH, OW].map(u32));
  const kernel = directKernel('conv2d.filterDirect', filterDirectWgsl, 'conv_filter_direct', b, ['read', 'read', 'write']);
  const grid: [number, number, number] = [Math.ceil(Math.ceil((C * R * S) / b.TN) / WG.WG_N), Math.ceil(K / (b.TM * WG.WG_M)), 1];
  gpu.run(kernel, [padded, dy, dw], params, grid);
  if (padded !== x) padded.dispose();
}
