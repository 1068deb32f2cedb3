#!/usr/bin/env bash
# One command on the GPU machine (repo root): build the core against PyTorch's CUDA libtorch,
# check parity, time, write bench/results/gpu-<date>.json (and a copy plus the log under $OUT),
# print a table. Needs: nvcc, cmake, python3 with torch + torchaudio (CUDA), a GPU. No node.
#   bash bench/gpu/run.sh [--quick]
# Env: VOXQC_GPU_BUILD (build dir, default /tmp/voxqc-gpu-build), JOBS (default nproc).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
REPO=$(pwd)
QUICK=""
[[ "${1:-}" == "--quick" ]] && QUICK="--quick"
STAMP=$(date -u +%Y-%m-%d)
BUILD=${VOXQC_GPU_BUILD:-/tmp/voxqc-gpu-build}
WORK=${VOXQC_GPU_WORK:-/tmp/voxqc-gpu-work}
JOBS=${JOBS:-$(nproc)}
LOG="$WORK/run.log"
mkdir -p "$BUILD/core" "$BUILD/bench" "$WORK" "$REPO/bench/results"
: >"$LOG"
say() { echo "[gpu/run.sh $(date -u +%H:%M:%S)] $*" | tee -a "$LOG"; }
finish() {
  local rc=$1
  if [[ -n "${OUT:-}" ]]; then
    cp -f "$LOG" "$OUT/run.log" 2>/dev/null
    [[ -f "$RESULT" ]] && cp -f "$RESULT" "$OUT/" 2>/dev/null
  fi
  exit "$rc"
}
RESULT="$REPO/bench/results/gpu-$STAMP.json"

export PATH="/usr/local/cuda/bin:$PATH"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  say "no GPU visible (nvidia-smi missing or failing): this script needs the GPU machine"
  finish 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee -a "$LOG"
command -v nvcc >/dev/null || { say "nvcc not found"; finish 2; }
TORCH_DIR=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>>"$LOG") || {
  say "python3 cannot import torch"; finish 2; }
python3 -c 'import torch, torchaudio; assert torch.cuda.is_available(); print("torch", torch.__version__, "torchaudio", torchaudio.__version__, "cuda", torch.version.cuda)' 2>&1 | tee -a "$LOG"
export TORCH_CUDA_ARCH_LIST=9.0
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
ARCH_FLAGS="-gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90"

say "configure core (TORCH_DIR=$TORCH_DIR)"
t0=$(date +%s)
cmake -S "$REPO" -B "$BUILD/core" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DVOXQC_BUILD_TESTS=OFF \
  -DTORCH_DIR="$TORCH_DIR" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
  "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual" "-DCMAKE_CUDA_FLAGS=$ARCH_FLAGS" \
  -DCMAKE_CUDA_COMPILER_LAUNCHER="$REPO/bench/gpu/nvcc-filter.sh" >>"$LOG" 2>&1 || {
  tail -40 "$LOG"; say "configure failed"; finish 2; }
grep -q "VOXQC_WITH_CUDA=1" "$BUILD/core/build.ninja" "$BUILD/core/CMakeFiles/voxqc_core.dir/flags.make" 2>/dev/null ||
  say "WARNING: VOXQC_WITH_CUDA=1 not seen in the core's flags (is this libtorch CUDA-enabled?)"
say "build voxqc_core ($JOBS jobs)"
cmake --build "$BUILD/core" --target voxqc_core -j "$JOBS" >>"$LOG" 2>&1 || {
  grep -E "error|Error" "$LOG" | head -40; say "core build failed (log: $LOG)"; finish 2; }
CORE_LIB=$(find "$BUILD/core" -maxdepth 2 -name libvoxqc_core.a | head -1)
say "build voxqc_gpu_bench"
cmake -S "$REPO/bench/gpu" -B "$BUILD/bench" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$TORCH_DIR/Torch" \
  -DCMAKE_PREFIX_PATH="$TORCH_DIR" -DVOXQC_CORE_LIB="$CORE_LIB" >>"$LOG" 2>&1 &&
  cmake --build "$BUILD/bench" -j "$JOBS" >>"$LOG" 2>&1 || {
  grep -E "error|Error" "$LOG" | tail -40; say "bench build failed (log: $LOG)"; finish 2; }
say "built in $(( $(date +%s) - t0 )) s"
# which machine code went in: expect sm_90 (and PTX compute_90)
cuobjdump --list-elf "$CORE_LIB" 2>/dev/null | sed 's/.*\(sm_[0-9a-z]*\).*/\1/' | sort | uniq -c | tee -a "$LOG"

BENCH="$BUILD/bench/voxqc_gpu_bench"
export VOXQC_MODEL_DIR="${VOXQC_MODEL_DIR:-$REPO/models/grader}"
say "prepare inputs"
"$BENCH" prepare "$WORK" 2>&1 | tee -a "$LOG" || { say "prepare failed"; finish 2; }
say "torchaudio reference (CUDA)"
PYTHONUNBUFFERED=1 python3 "$REPO/bench/gpu/torchaudio_ref.py" "$WORK" $QUICK 2>&1 | tee -a "$LOG" ||
  say "WARNING: torchaudio_ref.py failed: the torchaudio comparisons will report FAIL"
say "parity + timing"
"$BENCH" run "$WORK" "$RESULT" $QUICK 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
say "exit $rc; results: $RESULT"
finish "$rc"
