import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import type { BackendName } from '../../src/backend/tensor.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { MODEL_FORMAT, modelFromBytes, modelToBytes } from '../../src/nn/model-file.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/safetensors.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray, randomInt } from '../support/random.ts';
import { needPythonNumpy, readInPython } from '../support/requires.ts';
import { randomizeParams } from './layer-gradcheck.ts';

function tinyModel(): Sequential {
  return new Sequential(
    'tiny',
    [
      new Conv2D({ filters: 3, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' }),
      new BatchNorm({ momentum: 0.9, eps: 1e-5 }),
      new MaxPool2D({ size: 2 }),
      new Flatten(),
      new Dropout(0.2),
      new Dense({ units: 5, activation: 'relu' }),
      new Dense({ units: 3 }),
    ],
    [1, 9, 9],
    ['calm', 'glad', 'cross'],
  );
}

function builtModel(backend: BackendName = 'cpu'): Sequential {
  const m = tinyModel().build(new Random(randomInt(0, 2 ** 31)), backend);
  randomizeParams(m.layers);
  return m;
}

async function paramBytes(m: Sequential): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const p of m.params()) out.set(p.name, new Uint8Array((await p.value.read()).buffer));
  return out;
}

async function predict(m: Sequential, x: Float32Array): Promise<Float32Array> {
  return m.forward(tensor(x, [x.length / 81, 1, 9, 9], m.backend), { training: false }).read();
}

/** The file re-encoded after `edit` changes its tensors or metadata. */
function edited(bytes: Uint8Array, edit: (f: ReturnType<typeof decodeSafetensors>) => void): Uint8Array {
  const f = decodeSafetensors(bytes, 'mem');
  edit(f);
  return encodeSafetensors(f.tensors, f.metadata);
}

function expectOneLineError(f: () => unknown, pattern: RegExp): void {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(FerError);
  const msg = (err as Error).message;
  expect(msg).toMatch(pattern);
  expect(msg, 'one line').not.toContain('\n');
}

describe('model files: save and load', () => {
  it('round trip: the same architecture, bit-identical parameters (running statistics too), the same predictions', async () => {
    const model = builtModel();
    const bytes = await modelToBytes(model, { note: 'hello' });
    const { model: back, metadata } = modelFromBytes(bytes, 'tiny.safetensors', 'cpu');
    expect(metadata.note).toBe('hello');
    expect(metadata.format).toBe(MODEL_FORMAT);
    expect(JSON.parse(metadata.classes)).toEqual(['calm', 'glad', 'cross']);
    expect(back.spec()).toEqual(model.spec());
    expect(back.params().map((p) => p.name)).toEqual(model.params().map((p) => p.name));
    expect(await paramBytes(back)).toEqual(await paramBytes(model));
    const x = randomArray(4 * 81);
    expect(await predict(back, x)).toEqual(await predict(model, x));
    // Saving the loaded model gives the same file.
    expect(await modelToBytes(back, { note: 'hello' })).toEqual(bytes);
  });

  it.skipIf(!gpu)('a model saved on the CPU loads on WebGPU and the other way round', async () => {
    const cpuModel = builtModel('cpu');
    const onGpu = modelFromBytes(await modelToBytes(cpuModel), 'cpu.safetensors', 'webgpu').model;
    expect(onGpu.backend).toBe('webgpu');
    expect(await paramBytes(onGpu)).toEqual(await paramBytes(cpuModel));
    const x = randomArray(3 * 81);
    expectClose(await predict(onGpu, x), await predict(cpuModel, x), GPU_TOLERANCE, 'predictions on webgpu vs cpu');

    const gpuModel = builtModel('webgpu');
    const onCpu = modelFromBytes(await modelToBytes(gpuModel), 'gpu.safetensors', 'cpu').model;
    expect(await paramBytes(onCpu)).toEqual(await paramBytes(gpuModel));
    expectClose(await predict(gpuModel, x), await predict(onCpu, x), GPU_TOLERANCE, 'predictions of a webgpu-saved model on cpu');
  });
});

describe('model files: damaged or foreign files are refused with one line', () => {
  it('truncated, foreign format, missing or extra tensor, wrong shape, NaN, unknown layer, bad architecture', async () => {
    const good = await modelToBytes(builtModel());
    const load = (b: Uint8Array) => () => modelFromBytes(b, 'm.safetensors', 'cpu');
    expectOneLineError(load(good.subarray(0, good.length - 7)), /^m\.safetensors: not a valid safetensors file: .*(outside the data|bytes of data)/);
    expectOneLineError(load(good.subarray(0, 30)), /^m\.safetensors: not a valid safetensors file: header length \d+ exceeds the file \(30 bytes\)/);
    expectOneLineError(load(new Uint8Array(0)), /not a valid safetensors file: only 0 bytes/);
    expectOneLineError(
      load(edited(good, (f) => (f.metadata.format = 'keras/2'))),
      /^m\.safetensors: not a fer-webgpu model \(metadata format is "keras\/2", wanted "fer-webgpu\/1"\)$/,
    );
    expectOneLineError(load(edited(good, (f) => delete f.metadata.format)), /not a fer-webgpu model \(metadata format is null/);
    expectOneLineError(load(edited(good, (f) => f.tensors.delete('dense.bias'))), /^m\.safetensors: tensor "dense\.bias" is missing$/);
    expectOneLineError(
      load(edited(good, (f) => f.tensors.set('extra.weight', { shape: [2], data: new Float32Array(2) }))),
      /^m\.safetensors: tensors not in the architecture: extra\.weight$/,
    );
    expectOneLineError(
      load(edited(good, (f) => f.tensors.set('conv2d.weight', { shape: [3, 1, 9], data: randomArray(27) }))),
      /^m\.safetensors: tensor "conv2d\.weight" has shape \[3,1,9\], the architecture needs \[3,1,3,3\]$/,
    );
    expectOneLineError(load(edited(good, (f) => (f.tensors.get('dense_1.weight')!.data[4] = NaN))), /^m\.safetensors: tensor "dense_1\.weight" holds NaN at index 4$/);
    expectOneLineError(
      load(edited(good, (f) => (f.tensors.get('batch_normalization.running_var')!.data[0] = Infinity))),
      /tensor "batch_normalization\.running_var" holds Infinity at index 0/,
    );
    const arch = (change: (spec: { layers: Record<string, unknown>[]; classes: unknown }) => void) =>
      edited(good, (f) => {
        const spec = JSON.parse(f.metadata.architecture);
        change(spec);
        f.metadata.architecture = JSON.stringify(spec);
      });
    expectOneLineError(load(arch((s) => (s.layers[0].type = 'Conv3D'))), /^m\.safetensors: model: unknown layer type "Conv3D"$/);
    expectOneLineError(load(arch((s) => (s.layers[0].filters = 'many'))), /^m\.safetensors: model: layer Conv2D needs a number "filters", got "many"$/);
    expectOneLineError(load(arch((s) => (s.layers[0].activation = 'gelu'))), /unknown activation "gelu"/);
    expectOneLineError(load(arch((s) => (s.classes = ['a', 'b']))), /^m\.safetensors: model tiny: output shape \[3\] does not match 2 classes$/);
    expectOneLineError(load(arch((s) => delete (s as { layers?: unknown }).layers)), /architecture metadata is missing layers, inputShape or classes/);
    expectOneLineError(load(edited(good, (f) => (f.metadata.architecture = '{"layers": ['))), /^m\.safetensors: the architecture metadata is not valid JSON$/);
  });
});

const python = needPythonNumpy();

describe('model files in Python', () => {
  it.skipIf(!python)('Python reads every parameter with its shape and values, and the architecture metadata', async () => {
    const model = builtModel();
    const dir = mkdtempSync(join(tmpdir(), 'fer-model-'));
    const file = join(dir, 'tiny.safetensors');
    writeFileSync(file, await modelToBytes(model, { val_accuracy: '0.5' }));
    const res = readInPython(file);
    const meta = res.metadata;
    expect(meta.format).toBe(MODEL_FORMAT);
    expect(meta.val_accuracy).toBe('0.5');
    expect(JSON.parse(meta.architecture)).toEqual(model.spec());
    expect(Object.keys(res.tensors).sort()).toEqual(model.params().map((p) => p.name).sort());
    for (const p of model.params()) {
      const t = res.tensors[p.name];
      expect(t.dtype).toBe('float32');
      expect(t.shape).toEqual([...p.value.shape]);
      expect(t.values).toEqual(Array.from(await p.value.read()));
    }
  });
});
