import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/nn/safetensors.ts';
import { randomArray } from '../support/random.ts';
import { needPythonNumpy, readInPython } from '../support/requires.ts';

function sample(): Map<string, NamedTensor> {
  return new Map([
    ['conv.weight', { shape: [4, 1, 3, 3], data: randomArray(36) }],
    ['conv.bias', { shape: [4], data: randomArray(4) }],
    ['scalar', { shape: [], data: randomArray(1) }],
  ]);
}

const python = needPythonNumpy();

describe('safetensors', () => {
  it('round-trips tensors and metadata', () => {
    const t = sample();
    const bytes = encodeSafetensors(t, { format: 'fer-webgpu', classes: '["a","b"]' });
    const back = decodeSafetensors(bytes, 'mem');
    expect(back.metadata).toEqual({ format: 'fer-webgpu', classes: '["a","b"]' });
    for (const [name, v] of t) {
      expect(back.tensors.get(name)!.shape).toEqual(v.shape);
      expect(Array.from(back.tensors.get(name)!.data)).toEqual(Array.from(v.data));
    }
    // data region 8-byte aligned
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
  });

  it.skipIf(!python)('is read in Python (a NumPy reader of the format, and the safetensors package where installed) with the same values and metadata', () => {
    const t = sample();
    const dir = mkdtempSync(join(tmpdir(), 'fer-st-'));
    const file = join(dir, 'm.safetensors');
    writeFileSync(file, encodeSafetensors(t, { format: 'fer-webgpu' }));
    const res = readInPython(file);
    expect(res.readers[0]).toBe('numpy');
    expect(res.metadata).toEqual({ format: 'fer-webgpu' });
    expect(Object.keys(res.tensors).sort()).toEqual([...t.keys()].sort());
    for (const [name, v] of t) {
      expect(res.tensors[name].dtype).toBe('float32');
      expect(res.tensors[name].shape).toEqual(v.shape);
      expect(res.tensors[name].values).toEqual(Array.from(v.data));
    }
  });

  it.skipIf(!python)('the NumPy reader checks the layout: a gap before a tensor fails it', () => {
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }));
    const file = new Uint8Array(8 + header.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(header, 8);
    const path = join(mkdtempSync(join(tmpdir(), 'fer-st-')), 'gap.safetensors');
    writeFileSync(path, file);
    expect(() => readInPython(path)).toThrow(/does not follow the previous one/);
  });

  it('refuses damaged files with one line saying why', () => {
    const good = encodeSafetensors(sample(), {});
    const dec = (b: Uint8Array) => () => decodeSafetensors(b, 'model.safetensors');
    expect(dec(new Uint8Array(3))).toThrow(/model.safetensors: not a valid safetensors file: only 3 bytes/);
    expect(dec(good.subarray(0, good.length - 4))).toThrow(/lies outside the data|bytes of data/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(dec(huge)).toThrow(/header length .* exceeds the file/);
    const notJson = good.slice();
    notJson[9] = 0x7b; // '{{'
    expect(dec(notJson)).toThrow(/header is not JSON/);
    const f16 = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }));
    const file = new Uint8Array(8 + f16.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(f16.length), true);
    file.set(f16, 8);
    expect(dec(file)).toThrow(/dtype F16; only F32 is supported/);
    const gap = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }));
    const g = new Uint8Array(8 + gap.length + 8);
    new DataView(g.buffer).setBigUint64(0, BigInt(gap.length), true);
    g.set(gap, 8);
    expect(dec(g)).toThrow(/starts at byte 4, expected 0/);
  });
});
