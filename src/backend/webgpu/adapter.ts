import { FerError } from '../errors.ts';

/** What we tell the user about the device their kernels run on. */
export interface AdapterInfo {
  name: string;
  vendor: string;
  architecture: string;
  /** A software rasterizer (SwiftShader, WARP, llvmpipe): slow, and workgroup barriers are very costly. */
  software: boolean;
}

export interface OpenedGpu {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterInfo;
  /** How the adapter was found, when it took a fallback (shown to the user). */
  note?: string;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export const NO_ADAPTER =
  'no WebGPU adapter found: install a GPU driver (Vulkan on Linux; the software one from Debian\'s chromium package works with ' +
  `VK_ICD_FILENAMES=${SWIFTSHADER_ICD}), or use --backend cpu`;

type Navigatorish = { gpu?: GPU };

async function nodeGpu(): Promise<{ create: (flags: string[]) => GPU }> {
  const mod = 'webgpu'; // kept out of the browser bundle's static graph
  const { create, globals } = (await import(/* @vite-ignore */ mod)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  return { create };
}

function describe(adapter: GPUAdapter): AdapterInfo {
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unknown adapter';
  const lower = name.toLowerCase();
  const software =
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|warp|software/.test(lower);
  return { name, vendor: i.vendor, architecture: i.architecture, software };
}

/**
 * Keeps the Vulkan drivers from printing over our output (Node only), before Dawn loads them:
 * - Without XDG_RUNTIME_DIR, the window-system code in SwiftShader and Mesa's drivers prints
 *   "error: XDG_RUNTIME_DIR is invalid or not set" on each probe; we point it at a private
 *   folder of our own (compute needs no display).
 * - On a machine with no GPU device node, the loader's default drivers can only be software
 *   ones: Mesa's lavapipe, which Dawn rejects with a multi-line warning ("Vulkan
 *   shaderUniform*ArrayDynamicIndexing required"), or none ("Failed to detect any valid
 *   GPUs"). There we go straight to SwiftShader, the software driver we support.
 * Where there is a GPU device, lavapipe alone is left out. Returns the note to show when
 * SwiftShader was chosen this way. Nothing changes where the user set VK_ICD_FILENAMES or
 * VK_DRIVER_FILES.
 */
async function quietDrivers(): Promise<string | undefined> {
  const fs = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg || !fs.existsSync(xdg)) {
    const dir = join(tmpdir(), `fer-runtime-${process.getuid?.() ?? 'user'}`);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = fs.statSync(dir);
      // Only a folder that is ours and private (someone else could have made it first).
      if (st.isDirectory() && (st.mode & 0o077) === 0 && (process.getuid === undefined || st.uid === process.getuid())) process.env.XDG_RUNTIME_DIR = dir;
    } catch {
      // No private folder: the drivers print their line; nothing else depends on it.
    }
  }
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || !fs.existsSync(SWIFTSHADER_ICD)) return undefined;
  const devices = (dir: string, prefix: string) => {
    try {
      return fs.readdirSync(dir).some((f) => f.startsWith(prefix));
    } catch {
      return false;
    }
  };
  if (devices('/dev/dri', 'renderD') || devices('/dev', 'nvidia') || devices('/dev', 'dxg')) {
    // A GPU is there: let the loader find its driver, but not lavapipe (loader 1.3.234+ reads this).
    process.env.VK_LOADER_DRIVERS_DISABLE ??= '*lvp_icd*';
    return undefined;
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return `no GPU device on this machine; using SwiftShader (${SWIFTSHADER_ICD})`;
}

/**
 * Opens a WebGPU device: `navigator.gpu` in a browser, Dawn (the `webgpu` package) in Node.
 * The limits our kernels lean on (big storage bindings for batch activations, workgroup memory
 * for tiles) are requested at the adapter's maximum rather than assumed at the defaults.
 */
export async function openGpu(): Promise<OpenedGpu> {
  const nav = (globalThis as { navigator?: Navigatorish }).navigator;
  let note: string | undefined;
  let adapter: GPUAdapter | null = null;
  let gpu: GPU | undefined;
  if (typeof process !== 'undefined' && process.versions?.node) {
    note = await quietDrivers();
    const { create } = await nodeGpu();
    gpu = create([]);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter && !process.env.VK_ICD_FILENAMES) {
      const { existsSync } = await import('node:fs');
      if (existsSync(SWIFTSHADER_ICD)) {
        process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
        gpu = create([]);
        adapter = await gpu.requestAdapter();
        if (adapter) note = `no hardware adapter; using SwiftShader (${SWIFTSHADER_ICD})`;
      }
    }
    // Dawn's instance must outlive the device.
    (globalThis as { __ferDawn?: GPU }).__ferDawn = gpu;
  } else if (nav?.gpu) {
    adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
  }
  if (!adapter) throw new FerError(NO_ADAPTER);

  const want = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxStorageBuffersPerShaderStage',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, adapter, info: describe(adapter), note };
}
