import { FerError } from '../backend/errors.ts';

/**
 * The safetensors format (https://github.com/huggingface/safetensors), float32 only:
 *
 *   8 bytes   little-endian u64: N, the length of the header
 *   N bytes   UTF-8 JSON: { "__metadata__": {string: string}, "<name>": { "dtype": "F32",
 *             "shape": [...], "data_offsets": [begin, end] }, ... }, padded with spaces
 *   the rest  the tensors' bytes, little-endian, each at [begin, end) of this region
 *
 * Python's `safetensors.numpy.load_file` reads what encode() writes, and decode() checks a
 * file as strictly as the reference implementation does, so a damaged model file is refused
 * with one line saying what is wrong rather than loaded as garbage.
 */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER = 100 * 1024 * 1024;

export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: ${name} has shape [${t.shape}] but ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad so the data region starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (littleEndian) out.set(bytes, at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source: string): Safetensors {
  const bad = (why: string): never => {
    throw new FerError(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) bad(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER) || n > BigInt(bytes.length - 8)) bad(`header length ${n} exceeds the file (${bytes.length} bytes)`);
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return bad(`header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object') bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== 'string') bad(`metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') bad(`entry "${name}" is not an object`);
    if (e.dtype !== 'F32') bad(`tensor "${name}" has dtype ${String(e.dtype)}; only F32 is supported`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}" has a bad shape`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}" has bad data_offsets`);
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen) bad(`tensor "${name}" lies outside the data (${begin}..${end} of ${dataLen} bytes)`);
    if (end - begin !== count * 4) bad(`tensor "${name}" has ${end - begin} bytes for shape [${shape}] (${count * 4} expected)`);
    spans.push([begin, end, name]);
    const data = new Float32Array(count);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
    tensors.set(name, { shape: shape as number[], data });
  }
  // The format requires the tensors to tile the data region exactly: no gaps, no overlaps.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) bad(`tensor "${name}" starts at byte ${begin}, expected ${at} (gap or overlap)`);
    at = end;
  }
  if (at !== dataLen) bad(`${dataLen - at} bytes of data after the last tensor`);
  return { tensors, metadata };
}
