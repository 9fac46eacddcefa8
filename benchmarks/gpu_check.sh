#!/usr/bin/env bash
# The GPU check (about 5-8 minutes on one GPU): run on a machine with CUDA, from the repo
# root, with the python3 that has torch and triton (the device tool's image has both):
#
#     bash benchmarks/gpu_check.sh "$OUT"
#
# 1. the LIF scan's kernel tests on CUDA (tests/test_kernels_cuda.py: Triton and torch
#    backends against the reference, forward and gradients; a data-parallel NCCL check
#    is not part of it: one GPU);
# 2. a short training run of the synthetic gestures on --device cuda, float32 and bf16;
# 3. benchmarks/gpu_check.py: the paper's DVS128 network at T=20, batch 16, 64x64,
#    train-step time and peak memory for skipsnn (Triton/torch x fp32/bf16) and an
#    snnTorch twin. snnTorch is not in the GPU image: carry its wheel in .gpu-wheels/
#    (pip download snntorch --no-deps -d .gpu-wheels) and it is installed from there.
# Everything lands in $OUT (default ./gpu_check_out) as JSON and logs.
set -uo pipefail
OUT=${1:-gpu_check_out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if compgen -G ".gpu-wheels/*.whl" >/dev/null; then
  $PY -m pip install -q --no-deps --no-index .gpu-wheels/*.whl 2>&1 | tail -2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
$PY -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a "$OUT/gpu.txt"

echo "== 1. kernel tests on CUDA"
timeout 180 $PY -m pytest -q -p no:cacheprovider -o addopts= tests/test_kernels_cuda.py 2>&1 | tee "$OUT/kernel_tests.log"
kernel_rc=${PIPESTATUS[0]}

echo "== 2. gestures on --device cuda, 32 and bf16"
for p in 32 bf16; do
  rm -rf "/tmp/gpu_run_$p"
  timeout 150 $PY -m skipsnn train --dataset gestures --epochs 2 --device cuda --precision "$p" \
    --out "/tmp/gpu_run_$p" --no-progress --json > "$OUT/train_$p.json" 2> "$OUT/train_$p.log"
  echo "precision $p: exit $?"
done

echo "== 3. DVS128-sized step time and memory"
timeout 240 $PY benchmarks/gpu_check.py --out "$OUT/gpu_check.json" 2>&1 | tee "$OUT/gpu_check.log"
echo "kernel tests exit $kernel_rc"
