import gemmWgsl from '../../../shaders/gemm.wgsl';
import type { WebGpuBackend } from './backend.ts';
import { withConstants, type Kernel } from './kernel.ts';

/**
 * Tile shape of the GEMM core (shaders/gemm.wgsl). 'registers' avoids workgroup memory and
 * barriers (software GPUs); 'shared' stages tiles in workgroup memory (real GPUs).
 */
export interface GemmTiles {
  variant: 'registers' | 'shared';
  /** Outputs per invocation: TM rows by TN columns. */
  TM: number;
  TN: number;
  /** Invocations per workgroup: WG_M rows by WG_N columns. */
  WG_M: number;
  WG_N: number;
  /** Depth of a shared-memory tile ('shared' only). */
  BK: number;
}

export const REGISTER_TILES: GemmTiles = { variant: 'registers', TM: 4, TN: 4, WG_M: 8, WG_N: 8, BK: 1 };
export const SHARED_TILES: GemmTiles = { variant: 'shared', TM: 4, TN: 4, WG_M: 16, WG_N: 16, BK: 16 };

let forced: GemmTiles | null = null;

/** Pins every GEMM to one tile shape (tests and benchmarks); null restores the per-adapter choice. */
export function setGemmTiles(tiles: GemmTiles | null): void {
  forced = tiles;
}

/** Software adapters get register tiles: their workgroup barriers cost more than the loads saved. */
export function gemmTiles(backend: WebGpuBackend): GemmTiles {
  if (forced) return forced;
  const env = typeof process !== 'undefined' ? process.env?.FER_GEMM : undefined;
  if (env === 'registers') return REGISTER_TILES;
  if (env === 'shared') return SHARED_TILES;
  return backend.info.software ? REGISTER_TILES : SHARED_TILES;
}

export function tilesKey(t: GemmTiles): string {
  return `${t.variant}:${t.TM}x${t.TN}:${t.WG_M}x${t.WG_N}:${t.BK}`;
}

/**
 * A GEMM kernel: the op's WGSL (bindings, Params, gemmDims/loadA/loadB/storeC) followed by the
 * shared core, with the tile sizes as constants in front.
 */
export function gemmKernel(name: string, opCode: string, tiles: GemmTiles, bindings: Kernel['bindings'], extra: Record<string, number | boolean> = {}): Kernel {
  const consts = { TM: tiles.TM, TN: tiles.TN, WG_M: tiles.WG_M, WG_N: tiles.WG_N, BK: tiles.BK, ...extra };
  return {
    key: `${name}|${tilesKey(tiles)}|${JSON.stringify(extra)}`,
    code: withConstants(`${opCode}\n${gemmWgsl}`, consts),
    entry: tiles.variant === 'registers' ? 'gemm_registers' : 'gemm_shared',
    bindings,
  };
}

/** Workgroups covering an M×N output. */
export function gemmGrid(M: number, N: number, tiles: GemmTiles): [number, number, number] {
  return [Math.ceil(N / (tiles.WG_N * tiles.TN)), Math.ceil(M / (tiles.WG_M * tiles.TM)), 1];
}
