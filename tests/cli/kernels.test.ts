import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/backend/random.ts';
import {
  adamCost,
  batchNormCost,
  conv2dCost,
  matmulCost,
  maxPool2dCost,
  rates,
  reluCost,
  sgdCost,
  softmaxCrossEntropyCost,
  sumChannelsCost,
} from '../../src/ops/costs.ts';
import { kernelCases, modelFlops, trainableParams } from '../../src/cli/kernel-plan.ts';
import { formatReport, matchesOnly, parseKernelsArgs, predictSeconds, runKernels, skipReason, type KernelsReport } from '../../src/cli/kernels.ts';
import { median, planTiming, timeCalls } from '../../src/cli/timing.ts';
import { createModel } from '../../src/nn/models.ts';
import { conv2dFlops, conv2dGeometry } from '../../src/ops/conv2d.ts';
import { pool2dGeometry } from '../../src/ops/maxpool2d.ts';
import { gpu } from '../support/gpu.ts';

describe('costs: FLOPs and bytes per op, checked by hand', () => {
  it('matmul: 2MNK FLOPs (+MN for the bias), A, B, bias and C once', () => {
    expect(matmulCost(512, 512, 512, false)).toEqual({ flops: 268_435_456, bytes: 3_145_728, bound: 'compute' });
    expect(matmulCost(2, 3, 5, true)).toEqual({ flops: 2 * 30 + 6, bytes: 4 * (10 + 15 + 6 + 3), bound: 'compute' });
  });

  it('conv2d: the same FLOPs for all three passes, each pass its own operands', () => {
    // The seed model's heaviest layer at batch 1: 256→256 channels, 3×3, 46×46, 'same'.
    const g = conv2dGeometry([1, 256, 46, 46], [256, 256, 3, 3], { padding: 'same' });
    const flops = 2 * 256 * 46 * 46 * 256 * 9;
    expect(flops).toBe(2_496_135_168);
    const x = 256 * 46 * 46;
    const w = 256 * 256 * 9;
    expect(conv2dCost(g, 'forward')).toEqual({ flops, bytes: 4 * (x + w + 256 + x), bound: 'compute' });
    expect(conv2dCost(g, 'backward-input')).toEqual({ flops, bytes: 4 * (x + w + x), bound: 'compute' });
    expect(conv2dCost(g, 'backward-filter')).toEqual({ flops, bytes: 4 * (x + x + w), bound: 'compute' });
    expect(conv2dFlops(g)).toBe(flops);
  });

  it('elementwise ops: a few operations per value, every array once', () => {
    const g = pool2dGeometry([2, 3, 5, 5], { size: 2 });
    expect(maxPool2dCost(g, 'forward')).toEqual({ flops: 2 * 3 * 4 * 3, bytes: 4 * (150 + 24), bound: 'memory' });
    expect(maxPool2dCost(g, 'backward')).toEqual({ flops: 72, bytes: 4 * (150 + 24 + 150), bound: 'memory' });
    expect(reluCost(10, 'forward').bytes).toBe(80);
    expect(reluCost(10, 'backward').bytes).toBe(120);
    // [2,3,4]: n = 24 values, C = 3 channels.
    expect(batchNormCost(2, 3, 4, 'train')).toEqual({ flops: 168, bytes: 4 * (3 * 24 + 10 * 3), bound: 'memory' });
    expect(batchNormCost(2, 3, 4, 'infer')).toEqual({ flops: 72, bytes: 4 * (2 * 24 + 4 * 3), bound: 'memory' });
    expect(batchNormCost(2, 3, 4, 'backward')).toEqual({ flops: 240, bytes: 4 * (5 * 24 + 9 * 3), bound: 'memory' });
    expect(softmaxCrossEntropyCost(4, 7).bytes).toBe(4 * (28 + 4 + 28 + 4 + 1));
    expect(sumChannelsCost(2, 3, 4)).toEqual({ flops: 24, bytes: 4 * 27, bound: 'memory' });
    expect(sgdCost(100).bytes).toBe(2000);
    expect(adamCost(100).bytes).toBe(2800);
  });

  it('rates: GFLOP/s always, GB/s only where memory bounds the kernel', () => {
    const m = rates(matmulCost(512, 512, 512, false), 268.435456);
    expect(m.gflops).toBeCloseTo(1, 12);
    expect(m.gbs).toBeNull();
    const r = rates(reluCost(1e6, 'forward'), 1);
    expect(r.gbs).toBeCloseTo(8, 12);
    expect(r.gflops).toBeCloseTo(1, 12);
  });
});

describe('timing', () => {
  it('median of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('planTiming: fast kernels get the asked repeat, slow ones fewer calls but never fewer than 3 batches', () => {
    expect(planTiming(0.01, 10, 2)).toEqual({ repeat: 10, batches: 7 });
    // 100 ms calls, 2 s: 6 calls per batch would fill 3 batches; 3 batches of 6.
    expect(planTiming(100, 10, 2)).toEqual({ repeat: 6, batches: 3 });
    expect(planTiming(300, 10, 2)).toEqual({ repeat: 2, batches: 3 });
    expect(planTiming(5000, 10, 2)).toEqual({ repeat: 1, batches: 3 });
  });

  it('timeCalls: warm-up and probe are not counted; each batch syncs once', async () => {
    let calls = 0;
    let syncs = 0;
    const t = await timeCalls(() => void calls++, { repeat: 4, budgetSeconds: 0.05, sync: async () => void syncs++ });
    expect(t.samples.length).toBe(t.batches);
    expect(t.repeat).toBe(4);
    expect(calls).toBe(2 + t.batches * 4);
    expect(syncs).toBe(2 + t.batches);
    expect(t.ms).toBe(median(t.samples));
  });

  it('timeCalls: afterBatch runs once after each timed batch, after its sync (bench/peak.ts times the peak kernel there)', async () => {
    const events: string[] = [];
    const t = await timeCalls(() => void events.push('call'), {
      repeat: 3, budgetSeconds: 0.05, sync: async () => void events.push('sync'), afterBatch: async () => void events.push('after'),
    });
    expect(events.filter((e) => e === 'after').length).toBe(t.batches);
    // Warm-up and probe (call, sync each), then per batch: 3 calls, one sync, the hook.
    const batch = ['call', 'call', 'call', 'sync', 'after'];
    expect(events).toEqual(['call', 'sync', 'call', 'sync', ...Array.from({ length: t.batches }, () => batch).flat()]);
  });
});

describe('kernelCases: every kernel of a training step at the model layer shapes', () => {
  it('seed at batch 1: each conv three passes, dense three products, shared shapes once', () => {
    const model = createModel('seed');
    const cases = kernelCases(model, 1);
    const count = (k: string) => cases.filter((c) => c.kernel === k).length;
    expect(count('conv2d.forward')).toBe(6);
    expect(count('conv2d.backward-input')).toBe(6);
    expect(count('conv2d.backward-filter')).toBe(6);
    expect(count('matmul.forward')).toBe(4);
    expect(count('matmul.backward-weights')).toBe(4);
    expect(count('matmul.backward-input')).toBe(4);
    // The relu's forward is fused into the conv/dense forward; its backward after both convs of
    // a block shares one shape: 3 conv shapes + 3 dense = 6.
    expect(count('relu.forward')).toBe(0);
    expect(count('relu.backward')).toBe(6);
    expect(count('batchnorm.train')).toBe(6);
    expect(count('maxpool2d.forward')).toBe(3);
    expect(count('softmax-cross-entropy')).toBe(1);
    expect(count('sgd')).toBe(1);
    expect(count('adam')).toBe(1);
    const relu = cases.find((c) => c.kernel === 'relu.backward')!;
    expect(relu.layers).toEqual(['conv2d', 'conv2d_1']);
    expect(relu.shape).toBe('[1,256,46,46]');
    const heavy = cases.find((c) => c.kernel === 'conv2d.forward' && c.layers[0] === 'conv2d_1')!;
    expect(heavy.shape).toBe('x[1,256,46,46] w[256,256,3,3] same +relu');
    expect(heavy.cost.flops).toBe(2_496_135_168);
    // Dense batch norm cannot train on one value per channel: it trains at batch 2 and says so.
    const bn = cases.find((c) => c.kernel === 'batchnorm.train' && c.layers[0] === 'batch_normalization_6')!;
    expect(bn.shape).toBe('[2,512]');
    expect(bn.note).toMatch(/batch 2/);
    const dense = cases.find((c) => c.kernel === 'matmul.forward' && c.layers[0] === 'dense')!;
    expect(dense.cost).toEqual(matmulCost(1, 512, 1600, true));
  });

  it('parameter count and model FLOPs agree with the model summary', () => {
    const model = createModel('seed').build(new Random(0), 'cpu');
    const s = model.summary();
    expect(trainableParams(model)).toBe(s.trainable);
    // summary's multiply-adds also count batch norm's per-value work; the GEMMs alone are these.
    expect(modelFlops(model, 1, 'forward')).toBe(2 * 1_502_556_288 - 2 * (2 * 256 * 46 * 46 + 2 * 128 * 23 * 23 + 2 * 64 * 11 * 11 + 512 + 256 + 128));
    const first = 2 * model.layers[0].macs(model.shapes[0]);
    expect(modelFlops(model, 3, 'train')).toBe(3 * (3 * modelFlops(model, 1, 'forward') - first));
    model.dispose();
  });

  it('every case of the small model runs on the CPU and leaves its inputs disposable', () => {
    for (const c of kernelCases(createModel('small'), 2)) {
      const p = c.prepare('cpu');
      p.call();
      p.call();
      p.dispose();
    }
  });
});

describe('fer kernels: arguments and decisions', () => {
  it('parses flags and rejects bad values in one line', () => {
    const o = parseKernelsArgs(['--backend', 'cpu', '--model', 'small', '--batch', '4', '--only', 'conv2d']);
    expect(o).toMatchObject({ backends: ['cpu'], model: 'small', batch: 4, only: 'conv2d', repeat: 10, json: false });
    expect(parseKernelsArgs([])).toMatchObject({ backends: ['cpu', 'webgpu'], model: 'seed', batch: null });
    expect(() => parseKernelsArgs(['--backend', 'gpu'])).toThrow(/^--backend must be cpu, webgpu or both, got "gpu"$/);
    expect(() => parseKernelsArgs(['--model', 'big'])).toThrow(/^--model must be seed(, \w+)* or \w+, got "big"$/);
    expect(() => parseKernelsArgs(['--batch', '0'])).toThrow(/^--batch must be a positive integer, got "0"$/);
    expect(() => parseKernelsArgs(['--batch', '1.5'])).toThrow(/positive integer/);
    expect(() => parseKernelsArgs(['--max-seconds', 'x'])).toThrow(/^--max-seconds must be a number > 0, got "x"$/);
    expect(() => parseKernelsArgs(['--max-seconds', '-1'])).toThrow(/^--max-seconds must be a number > 0, got "-1"$/);
    expect(() => parseKernelsArgs(['--gemm', 'fast'])).toThrow(/^--gemm must be auto, registers, tall, scalar, shared or all, got "fast"$/);
  });

  it('skips by predicted time from the probe rates, and says why', () => {
    const rate = { gflops: 0.5, gbs: 1 };
    const heavy = matmulCost(1000, 1000, 1000, false);
    expect(predictSeconds(heavy, rate)).toBeCloseTo(4, 12);
    expect(skipReason(heavy, rate, 5)).toBeNull();
    expect(skipReason(heavy, rate, 3)).toBe('predicted 4.0 s per call (2.00 GFLOP at the 0.50 GFLOP/s of the GEMM probe) > --max-seconds 3');
    expect(skipReason(reluCost(1e9, 'forward'), rate, 3)).toMatch(/8000 MB at the 1.00 GB\/s of the memory probe/);
  });

  it('--only matches a kernel name part or a whole layer name', () => {
    expect(matchesOnly(null, 'relu.forward', [])).toBe(true);
    expect(matchesOnly('batchnorm', 'batchnorm.train', ['batch_normalization'])).toBe(true);
    expect(matchesOnly('conv2d_1', 'relu.forward', ['conv2d', 'conv2d_1'])).toBe(true);
    expect(matchesOnly('conv2d_1', 'relu.forward', ['conv2d_10'])).toBe(false);
    expect(matchesOnly('matmul', 'conv2d.forward', ['conv2d'])).toBe(false);
  });

  it('runs end to end on the CPU: rows with rates, the model rows in images/s', async () => {
    const o = parseKernelsArgs(['--backend', 'cpu', '--model', 'small', '--batch', '2', '--only', 'dense_1', '--budget', '0.05']);
    if (!o) throw new Error('unexpected help');
    const rep = await runKernels(o, () => {});
    expect(rep.adapter).toBeNull();
    expect(rep.rows.map((r) => r.kernel)).toEqual(['matmul.forward', 'matmul.backward-weights', 'matmul.backward-input', 'reduce.sumChannels']);
    for (const r of rep.rows) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.gflops).toBeCloseTo(r.flops / (r.ms * 1e6), 9);
      expect(r.cpuOverGpu).toBeNull();
    }
    const all = await runKernels({ ...o, only: 'model' }, () => {});
    expect(all.rows).toEqual([]);
    expect(all.models.map((m) => m.what)).toEqual(['forward', 'train-step']);
    for (const m of all.models) expect(m.imagesPerSecond).toBeCloseTo((2 * 1000) / m.ms, 9);
  });
});

describe('fer kernels: both backends', () => {
  it.skipIf(!gpu)('each WebGPU row carries the CPU time over its own, and names its GEMM kernel', async () => {
    const o = parseKernelsArgs(['--model', 'small', '--batch', '2', '--only', 'dense_1', '--budget', '0.05']);
    if (!o) throw new Error('unexpected help');
    const rep = await runKernels({ ...o, only: 'matmul.forward' }, () => {});
    const [cpuRows, gpuRows] = [rep.rows.filter((r) => r.backend === 'cpu'), rep.rows.filter((r) => r.backend === 'webgpu')];
    expect(cpuRows.length).toBe(2);
    expect(gpuRows.length).toBe(2);
    gpuRows.forEach((r, i) => {
      expect(r.cpuOverGpu).toBeCloseTo(cpuRows[i].ms / r.ms, 9);
      expect(r.variant).toMatch(/^(registers|shared)/);
    });
    expect(cpuRows.every((r) => r.cpuOverGpu === null && r.variant === null)).toBe(true);
  });
});

describe('fer kernels: output', () => {
  it('the text report names the adapter, the notes, every row and every skipped kernel with its reason', () => {
    const rep: KernelsReport = {
      command: 'fer kernels',
      date: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 2, cpuModel: 'Test CPU', loadBefore: 1, loadAfter: 2 },
      adapter: { name: 'Soft GPU', software: true },
      model: 'seed',
      batch: 1,
      notes: ['batch 1: software'],
      probes: [{ backend: 'webgpu', gflops: 0.25, gbs: 0.5 }],
      rows: [
        {
          kernel: 'conv2d.forward', layers: ['conv2d_1'], shape: 'x[1,2,3,3] w[4,2,3,3] same', backend: 'webgpu', variant: 'registers 8×2',
          ms: 12.5, gflops: 0.2, gbs: null, flops: 2.5e6, bytes: 1000, cpuOverGpu: 0.5, samples: [12.5], repeat: 1,
        },
      ],
      models: [{ what: 'forward', backend: 'webgpu', batch: 1, ms: 200, imagesPerSecond: 5, gflops: 0.1, cpuOverGpu: 0.25, samples: [200] }],
      skipped: [{ kernel: 'conv2d.forward', shape: 'x[1,256,46,46]', backend: 'webgpu', reason: 'predicted 9.0 s per call' }],
    };
    const text = formatReport(rep);
    expect(text).toContain('adapter: Soft GPU (software renderer)');
    expect(text).toContain('note: batch 1: software');
    expect(text).toMatch(/conv2d\.forward +x\[1,2,3,3\] w\[4,2,3,3\] same +webgpu +registers 8×2 +12\.500 +0\.200 +0\.50× +conv2d_1/);
    expect(text).toMatch(/model forward +webgpu +batch 1 +200 ms +5\.00 images\/s +0\.100 GFLOP\/s +cpu\/gpu 0\.25×/);
    expect(text).toContain('  conv2d.forward x[1,256,46,46] on webgpu: predicted 9.0 s per call');
  });

  it('--json prints nothing but one JSON document on stdout', () => {
    const out = execFileSync(process.execPath, ['src/cli/fer.mjs', 'kernels', '--backend', 'cpu', '--model', 'small', '--only', 'softmax', '--budget', '0.05', '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rep = JSON.parse(out) as KernelsReport;
    expect(rep.rows.map((r) => [r.kernel, r.backend])).toEqual([['softmax-cross-entropy', 'cpu']]);
    expect(rep.batch).toBe(8);
    expect(rep.adapter).toBeNull();
  });
});
