import { describe, expect, it } from 'vitest';
import { gpu } from '../support/gpu.ts';
import { fer } from './fer-process.ts';

// Issue 10 item 3: the Vulkan drivers and Dawn printed four "XDG_RUNTIME_DIR is invalid" lines
// and a multi-line Dawn warning before our first line. The adapter code now gives the drivers
// a private runtime folder and, where there is no GPU device, goes straight to SwiftShader.
describe('WebGPU commands print only our own lines', () => {
  it.skipIf(!gpu)('without XDG_RUNTIME_DIR or VK_ICD_FILENAMES: no driver or loader lines on stderr', async () => {
    const env = { XDG_RUNTIME_DIR: undefined, VK_ICD_FILENAMES: undefined, VK_DRIVER_FILES: undefined, VK_LOADER_DRIVERS_DISABLE: undefined };
    const r = await fer(['kernels', '--backend', 'webgpu', '--model', 'small', '--only', 'dense_1', '--budget', '0.05', '--repeat', '1', '--json'], undefined, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR|Warning:|Loader Message|\.cpp:\d+/);
    // The adapter's facts stay available in fer kernels.
    expect(JSON.parse(r.stdout).adapter).toBeTruthy();
  }, 120_000);
});
