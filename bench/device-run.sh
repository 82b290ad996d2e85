#!/usr/bin/env bash
# The benchmark on a lent GPU machine, in one go, under 8 minutes: `npm run bench` at batch 64
# (our WebGPU path and tfjs-webgpu on the same adapter, kernels autotuned per shape), the `fer
# kernels` table at batch 64, and bench/pytorch_seed.py on CUDA beside them; everything lands in
# one folder to bring back.
#
#   here (after npm install):   bash bench/device-run.sh pack     → .devicekit/ (node, Dawn, the bundle, tfjs)
#   on the GPU machine:         bash bench/device-run.sh run OUT  → OUT/{bench/RESULTS.md, bench/results/*.json,
#                                                                      bench.log, kernels.txt, kernels.json,
#                                                                      pytorch.txt, tune.json, summary.txt}
# The kit runner is ../shared/device/run.sh (or shared/device/run.sh); see ../shared/README.md.
# Each step has its own time limit (BENCH_S, KERNELS_S, TORCH_S seconds), so a hung step cannot
# eat the others' time; a step that fails or times out is noted in summary.txt and the next runs.
# For a try on a machine without a GPU (SwiftShader): BATCH=1 MODEL=small BENCH_EXTRA='--models small'
# TORCH_EXTRA='--steps 1 --batches 1 --warmup 0 --only inference' (PyTorch trains only at batch 2 or more).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
kitsh() { for d in ../shared/device shared/device; do [ -f "$d/$1" ] && { echo "$d/$1"; return; }; done; echo "device-run.sh: no shared/device/$1 (../shared/device/ or shared/device/)" >&2; exit 1; }

pack() {
  set -e
  bash "$(kitsh pack.sh)" bench/device.ts --loader:.wat=text
  # tfjs is loaded by name at run time (bench/peers/tfjs.ts): three CommonJS bundles that share
  # one tfjs-core (required by name, so Node loads it once), so the WebGPU backend registers with
  # the core that tfjs uses.
  local nm=.devicekit/node_modules/@tensorflow
  for p in tfjs-core tfjs tfjs-backend-webgpu; do
    mkdir -p "$nm/$p"
    local ext=(--external:@tensorflow/tfjs-core)
    [ "$p" = tfjs-core ] && ext=()
    npx esbuild "@tensorflow/$p" --bundle --platform=node --format=cjs --target=node20 --log-level=error \
      "${ext[@]}" --external:@tensorflow/tfjs-backend-wasm --outfile="$nm/$p/index.cjs"
    printf '{ "name": "@tensorflow/%s", "version": "%s", "main": "index.cjs" }\n' \
      "$p" "$(node -p "require('./node_modules/@tensorflow/$p/package.json').version")" > "$nm/$p/package.json"
  done
  du -sh .devicekit
}

run() {
  local out=${1:?usage: device-run.sh run OUT}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  local runsh; runsh=$(kitsh run.sh) || exit 1
  local t0=$SECONDS batch=${BATCH:-64}
  export FER_CONV_TUNE="$out/tune.json"
  {
    echo "device-run.sh on $(hostname) at $(date -u +%FT%TZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$out/summary.txt"
  step() { # name, limit, command...
    local name=$1 limit=$2; shift 2
    local s=$SECONDS
    timeout --kill-after=10 "$limit" "$@"
    local rc=$?
    echo "$name: exit $rc after $((SECONDS - s)) s (limit $limit s)$([ $rc = 124 ] && echo ', TIMED OUT')" | tee -a "$out/summary.txt" >&2
  }
  # 1. npm run bench at batch 64 on WebGPU only (the CPU rows at batch 64 would take minutes each).
  step bench "${BENCH_S:-270}" bash "$runsh" bench --batch "$batch" --backend webgpu --budget 0.5 --max-seconds 5 --model-max-seconds 20 \
    ${BENCH_EXTRA:-} --out "$out/bench" > "$out/bench.md" 2> "$out/bench.log"
  # 2. The kernel table at batch 64 (reads the tuning the bench wrote to tune.json).
  step kernels "${KERNELS_S:-120}" bash "$runsh" kernels --backend webgpu --model "${MODEL:-seed}" --batch "$batch" --budget 0.3 --max-seconds 3 \
    > "$out/kernels.txt" 2> "$out/kernels.log"
  # 3. PyTorch on the same GPU, with the first Python here that has it.
  local py=""
  for c in ${PYTHON:-} python3 /usr/bin/python3; do "$c" -c 'import torch' 2>/dev/null && { py=$c; break; }; done
  if [ -n "$py" ]; then
    local dev=cpu; "$py" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' && dev=cuda
    step pytorch "${TORCH_S:-90}" "$py" bench/pytorch_seed.py --device "$dev" --batch "$batch" ${TORCH_EXTRA:-} > "$out/pytorch.txt" 2>&1
  else
    echo "pytorch: not run: no Python here has torch" | tee -a "$out/summary.txt" >&2
  fi
  echo "total: $((SECONDS - t0)) s" | tee -a "$out/summary.txt" >&2
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/device-run.sh pack | run OUT" >&2; exit 2 ;;
esac
