#!/usr/bin/env bash
# GPU check, on a machine with an NVIDIA GPU, nvcc, cmake, python3 + PyTorch and no .NET SDK:
#   1. configure + build libpeft_native_cuda with CMake (only this GPU's architecture: fast),
#   2. run the self-contained checker (artifacts/gpu-checker, made by bench/gpu/publish-checker.sh):
#      every kernel and dtype against the float64 reference, then CUDA-event timings against a
#      device-to-device copy probe,
#   3. time PyTorch's addmm_ (merge) and a weighted sum (affine) on the same card,
#   4. print one table.
# Exit status: the checker's (0 all checks passed, 1 a check failed, 2 no device / setup error).
# Results (logs, TSVs, table.txt) land in ${OUT:-artifacts/gpu-bench}; the CMake build in
# artifacts/gpu-build. Budget: under 5 minutes.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${OUT:-$root/artifacts/gpu-bench}
build="$root/artifacts/gpu-build"
mkdir -p "$out" "$build"
log() { printf '[gpu] %s\n' "$*"; }
start=$SECONDS

checker="$root/artifacts/gpu-checker/peftnative-gpu-check"
if [ ! -x "$checker" ]; then
  log "missing $checker: run bench/gpu/publish-checker.sh on a machine with the .NET SDK and carry artifacts/gpu-checker"
  exit 2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

# 1. the library, for this card only (compute capability 9.0 -> 90-real), plus PTX as a fallback.
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
archs=${cap:+${cap}-real;${cap}-virtual}
archs=${archs:-80-real;90-real;90-virtual}
log "cmake: libpeft_native_cuda for CUDA architectures $archs ($(nvcc --version | tail -n 1))"
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPEFT_NATIVE_BUILD_TESTS=OFF \
         -DCMAKE_CUDA_ARCHITECTURES="$archs" -DPEFT_NATIVE_OUTPUT_DIR="$build/lib" >"$out/cmake-configure.log" 2>&1 \
       && cmake --build "$build" --target peft_native_cuda --parallel "$(nproc)" >"$out/cmake-build.log" 2>&1; }; then
  log "CUDA build failed"; tail -n 40 "$out/cmake-configure.log" "$out/cmake-build.log"
  exit 2
fi
log "built $(stat -c %s "$build/lib/libpeft_native_cuda.so") bytes in $((SECONDS - start)) s"

# 2. correctness + timings
export PEFTNATIVE_CUDA_PATH="$build/lib/libpeft_native_cuda.so"
export DOTNET_BUNDLE_EXTRACT_BASE_DIR="$build/dotnet-bundle"
timeout 180 "$checker" --timings "$out/peftnative.tsv" 2>&1 | tee "$out/checker.log"
checker_rc=${PIPESTATUS[0]}
log "checker exited $checker_rc after $((SECONDS - start)) s"

# 3. PyTorch on the same card
if timeout 90 python3 bench/gpu/torch_bench.py >"$out/torch.tsv" 2>"$out/torch.log"; then
  log "pytorch timed after $((SECONDS - start)) s"
else
  log "pytorch timing failed (see torch.log)"; tail -n 20 "$out/torch.log"
  : >"$out/torch.tsv"
fi

# 4. one table
if [ -s "$out/peftnative.tsv" ]; then
  python3 bench/gpu/table.py "$out/peftnative.tsv" "$out/torch.tsv" | tee "$out/table.txt"
fi
log "done in $((SECONDS - start)) s"
exit "$checker_rc"
