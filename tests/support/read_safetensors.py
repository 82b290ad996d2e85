"""Reads a safetensors file for the interoperability tests and prints it as JSON.

Two independent readers: our own NumPy one, written from the format's description (an
unsigned 64-bit little-endian header length N, N bytes of JSON header, then the raw tensor
bytes, each tensor at its data_offsets relative to the end of the header), and, where it is
installed, the `safetensors` package, whose arrays must equal ours bit for bit.

usage: read_safetensors.py FILE  ->  {"readers": [...], "metadata": {...}, "tensors": {name: {dtype, shape, values}}}
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_numpy(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, no header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    end = 0
    # The format requires the tensors to tile the data region with no gaps or overlaps.
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        count = int(np.prod(info["shape"], dtype=np.int64))
        if begin != end or stop - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name} at bytes [{begin}, {stop}) does not follow the previous one at {end} or hold {count} values")
        tensors[name] = np.frombuffer(data[begin:stop], dtype=dtype).reshape(info["shape"])
        end = stop
    if end != len(data):
        raise ValueError(f"{path}: {len(data) - end} bytes after the last tensor")
    return metadata, tensors


def main(path):
    metadata, tensors = read_numpy(path)
    readers = ["numpy"]
    try:
        from safetensors import safe_open
    except ImportError:
        safe_open = None
    if safe_open is not None:
        with safe_open(path, framework="numpy") as f:
            if (f.metadata() or {}) != metadata:
                raise ValueError("safetensors reads other metadata than the NumPy reader")
            if sorted(f.keys()) != sorted(tensors):
                raise ValueError("safetensors reads other tensor names than the NumPy reader")
            for k in f.keys():
                a = f.get_tensor(k)
                b = tensors[k]
                if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                    raise ValueError(f"safetensors reads tensor {k} differently from the NumPy reader")
        readers.append("safetensors")
    out = {
        "readers": readers,
        "metadata": metadata,
        "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": [float(x) for x in v.ravel()]} for k, v in tensors.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
