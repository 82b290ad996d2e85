#!/usr/bin/env python3
"""The `seed`, `small` and `vgg` models (src/nn/models.ts) in PyTorch: inference and
training-step throughput, for comparing fer-webgpu with PyTorch on the same machine.

    python3 bench/pytorch_seed.py --device cuda --batch 64
    python3 bench/pytorch_seed.py --device cpu --batch 8 --steps 5
    python3 bench/pytorch_seed.py --device cpu --model small --threads 1 --json   (bench/cpu.ts runs these)

The layers are those of `fer summary --model seed`: three blocks of conv3x3-relu-BN,
conv3x3-relu-BN, 2x2 max-pool with 256, 128, 64 filters (the first convolution 'valid',
48 -> 46, the others 'same'), then dense 512, 256, 128 each with relu and BN, and 7 outputs;
2,137,991 parameters (the script checks the count). Batch norm uses Keras's eps 1e-3 and
momentum 0.99 (PyTorch's momentum 0.01). The training step is Adam (lr 1e-3), softmax
cross-entropy, forward + backward + update, as `fer train`. Inputs and labels are random:
only the time matters.

Timing as src/cli/timing.ts: warm-up steps (cuDNN autotuning, allocator) are not counted, then
the median of several batches of steps, with one device synchronisation per batch.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

SEED_PARAMS = 2_137_991
SEED_TRAINABLE = 2_134_407
SEED_MACS_PER_IMAGE = 1_502_556_288  # as `fer summary` counts them (batch norm's per-value work included)


def seed_model() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 1
    for block, filters in enumerate([256, 128, 64]):
        for conv in range(2):
            padding = 0 if block == 0 and conv == 0 else 1  # 'valid' then 'same' (3x3, stride 1)
            layers += [
                nn.Conv2d(channels, filters, 3, padding=padding),
                nn.ReLU(inplace=True),
                nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
            ]
            channels = filters
        layers.append(nn.MaxPool2d(2))
    layers.append(nn.Flatten())
    features = channels * 5 * 5
    for units in [512, 256, 128]:
        layers += [nn.Linear(features, units), nn.ReLU(inplace=True), nn.BatchNorm1d(units, eps=1e-3, momentum=0.01)]
        features = units
    layers.append(nn.Linear(features, 7))
    return nn.Sequential(*layers)


def small_model() -> nn.Sequential:
    """`small`: four conv3x3-relu-BN-pool stages 32-64-128-128 ('same'), dropout 0.4, dense 128
    relu BN, dropout 0.3, dense 7; batch norm momentum 0.9 in Keras's sense (PyTorch's 0.1)."""
    layers: list[nn.Module] = []
    channels = 1
    for filters in [32, 64, 128, 128]:
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True),
                   nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1), nn.MaxPool2d(2)]
        channels = filters
    layers += [nn.Flatten(), nn.Dropout(0.4), nn.Linear(128 * 3 * 3, 128), nn.ReLU(inplace=True),
               nn.BatchNorm1d(128, eps=1e-3, momentum=0.1), nn.Dropout(0.3), nn.Linear(128, 7)]
    return nn.Sequential(*layers)


def vgg_model() -> nn.Sequential:
    """`vgg` on 40x40 crops: four stages of two conv3x3-BN-relu (24-48-96-192), 2x2 max-pool after
    the first three, global average pooling, dropout 0.3, dense 7."""
    layers: list[nn.Module] = []
    channels = 1
    for stage, filters in enumerate([24, 48, 96, 192]):
        for _ in range(2):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1), nn.ReLU(inplace=True)]
            channels = filters
        if stage < 3:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(192, 7)]
    return nn.Sequential(*layers)


MODELS = {'seed': (seed_model, 48), 'small': (small_model, 48), 'vgg': (vgg_model, 40)}


def measured_gemm_flops(model: nn.Sequential, side: int, mode: str) -> int:
    """Conv and dense FLOPs per image (2 per multiply-add) counted with forward hooks; a training
    step adds dW and dX of each, less the first layer's dX (its input needs no gradient)."""
    macs: list[int] = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs.append(out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1])
        elif isinstance(m, nn.Linear):
            macs.append(m.in_features * m.out_features)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, side, side, device=next(model.parameters()).device))
    model.train(was_training)
    for h in handles:
        h.remove()
    if mode == 'forward':
        return 2 * sum(macs)
    return 2 * (3 * sum(macs) - macs[0])


CONVS = [(1, 256, 46), (256, 256, 46), (256, 128, 23), (128, 128, 23), (128, 64, 11), (64, 64, 11)]  # (in, out, output side)
DENSE = [(1600, 512), (512, 256), (256, 128), (128, 7)]


def gemm_flops_per_image(mode: str) -> int:
    """FLOPs of the convolutions and dense layers (2 per multiply-add), as `fer kernels` counts them.

    A training step adds the two backward products (dW and dX), each the size of the forward one,
    except the first layer's dX: its input needs no gradient, so autograd skips it (as fer does).
    """
    layers = [c * k * 9 * s * s for c, k, s in CONVS] + [i * o for i, o in DENSE]
    if mode == 'forward':
        return 2 * sum(layers)
    return 2 * (3 * sum(layers) - layers[0])


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_steps(step, device: torch.device, warmup: int, steps: int, batches: int) -> list[float]:
    """Seconds per step in each of `batches` batches of `steps` steps, after `warmup` uncounted ones."""
    for _ in range(warmup):
        step()
    sync(device)
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync(device)
        out.append((time.perf_counter() - t0) / steps)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda', help='cuda, cuda:N or cpu (default cuda)')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10, help='steps per timed batch')
    ap.add_argument('--batches', type=int, default=5, help='timed batches (the median is reported)')
    ap.add_argument('--channels-last', action='store_true', help='NHWC memory format (often faster with cuDNN)')
    ap.add_argument('--amp', action='store_true', help='float16/bfloat16 autocast (fer-webgpu computes in float32)')
    ap.add_argument('--json', action='store_true', help='print one JSON object')
    ap.add_argument('--model', default='seed', choices=sorted(MODELS), help='network (default seed)')
    ap.add_argument('--only', choices=['inference', 'train'], help='time one of the two (default both)')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (torch.set_num_threads; default: PyTorch\'s choice)')
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('pytorch_seed: CUDA is not available here; use --device cpu')
        torch.backends.cudnn.benchmark = True
    if args.batch < 2 and args.only != 'inference':
        raise SystemExit('pytorch_seed: --batch must be at least 2 to train (batch norm trains on the batch statistics); add --only inference')
    torch.manual_seed(0)

    make, side = MODELS[args.model]
    model = make().to(device)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith('num_batches_tracked'))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if args.model == 'seed':
        assert params + buffers == SEED_PARAMS and trainable == SEED_TRAINABLE, (params, buffers, trainable)

    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    x = torch.rand(args.batch, 1, side, side, device=device).to(memory_format=memory_format)
    y = torch.randint(0, 7, (args.batch,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    amp_dtype = torch.bfloat16 if device.type == 'cpu' else torch.float16
    autocast = lambda: torch.autocast(device.type, dtype=amp_dtype, enabled=args.amp)  # noqa: E731

    def infer() -> None:
        with torch.no_grad(), autocast():
            model(x)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    model.eval()
    infer_s = time_steps(infer, device, args.warmup, args.steps, args.batches) if args.only != 'train' else None
    model.train()
    train_s = time_steps(train_step, device, args.warmup, args.steps, args.batches) if args.only != 'inference' else None

    flops_of = {mode: measured_gemm_flops(model, side, mode) for mode in ('forward', 'train')}
    if args.model == 'seed':
        assert flops_of['forward'] == gemm_flops_per_image('forward'), (flops_of, gemm_flops_per_image('forward'))
    flops = flops_of['forward'] * args.batch
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'
    result = {
        'torch': torch.__version__,
        'model': args.model,
        'threads': torch.get_num_threads(),
        'device': name,
        'batch': args.batch,
        'channels_last': args.channels_last,
        'amp': args.amp,
    }
    for key, samples in (('inference', infer_s), ('train_step', train_s)):
        if samples is not None:
            result[key] = {'ms': 1000 * statistics.median(samples), 'samples_ms': [1000 * s for s in samples]}
    for key, mode in (('inference', 'forward'), ('train_step', 'train')):
        if key not in result:
            continue
        r = result[key]
        r['images_per_second'] = args.batch / (r['ms'] / 1000)
        r['gemm_gflops_per_second'] = flops_of[mode] * args.batch / (r['ms'] / 1000) / 1e9
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"PyTorch {result['torch']} on {name}, {args.model} model, batch {args.batch}"
          f"{', channels-last' if args.channels_last else ''}{', autocast' if args.amp else ''}")
    print(f"  GEMM work: {flops / 1e9:.2f} GFLOP per forward batch")
    for key, label in (('inference', 'inference'), ('train_step', 'training step')):
        if key not in result:
            continue
        r = result[key]
        print(f"  {label:14s} {r['ms']:9.2f} ms per batch  {r['images_per_second']:9.1f} images/s  "
              f"{r['gemm_gflops_per_second']:8.1f} GFLOP/s (median of {args.batches} x {args.steps})")


if __name__ == '__main__':
    main()
