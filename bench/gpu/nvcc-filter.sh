#!/usr/bin/env bash
# CMAKE_CUDA_COMPILER_LAUNCHER for bench/gpu/run.sh: runs `nvcc ARGS` with host-compiler-only flags
# (gcc warnings -W..., -f..., -march=...) that CMake passes to every language of voxqc_core
# (target_compile_options without a COMPILE_LANGUAGE guard) wrapped as -Xcompiler=FLAG, since
# nvcc rejects them ("nvcc fatal: Unknown option '-Wall'"). nvcc's own -W options pass through.
# Harmless once CMakeLists.txt guards those options with $<$<COMPILE_LANGUAGE:CXX>:...>.
args=()
first=1
for a in "$@"; do
  if [[ $first == 1 ]]; then args+=("$a"); first=0; continue; fi  # the compiler itself
  case "$a" in
    -Werror*|-Wno-deprecated-gpu-targets|-Wno-deprecated-declarations|-Wreorder|-Wdefault-stream-launch|\
    -Wmissing-launch-bounds|-Wext-lambda-captures-this|-Wno-*-gpu-*) args+=("$a") ;;
    -W[a-z]*|-f[a-z]*|-march=*|-mtune=*) args+=("-Xcompiler=$a") ;;
    *) args+=("$a") ;;
  esac
done
exec "${args[@]}"
