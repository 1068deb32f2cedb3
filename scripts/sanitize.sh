#!/bin/sh
# npm run sanitize [-- asan|valgrind]: the native test suite built with AddressSanitizer +
# UndefinedBehaviorSanitizer (+ LeakSanitizer) in build-asan/, and a valgrind run of the addon on a
# short grading run. Both must end with no report (exit status 0).
#   CXX=clang++-14 npm run sanitize   builds with clang's runtime instead of gcc's.
#   VOXQC_BUILD_JOBS=N                parallel compile jobs (default 2).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
jobs=${VOXQC_BUILD_JOBS:-2}
supp="$root/scripts/sanitize"

if [ "$what" = all ] || [ "$what" = asan ]; then
  cmake -S "$root" -B "$root/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOXQC_SANITIZE=ON -DVOXQC_BUILD_TESTS=ON
  cmake --build "$root/build-asan" -j "$jobs" --target voxqc_native_tests voxqc_fuzz
  # halt_on_error/abort: any ASan or UBSan report fails the run; leaks are checked at exit.
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_odr_violation=0" \
  LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$root/build-asan/voxqc_native_tests"
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_odr_violation=0" \
  LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$root/build-asan/voxqc_fuzz" --cases 500 --crash-dir "$root/fuzz-crashes"
  echo "sanitize: native tests and 500 fuzz cases per target under ASan+UBSan+LSan: no report"
fi

if [ "$what" = all ] || [ "$what" = valgrind ]; then
  # The addon (the normal build) under valgrind, grading one short clip through the CLI.
  tmp=$(mktemp -d)
  cp "$root/samples/speechcommands_zero_3d794813.wav" "$tmp/clip.wav"
  echo '{"audio_filepath": "clip.wav", "text": "zero"}' > "$tmp/m.jsonl"
  valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$supp/valgrind.supp" --num-callers=30 \
    node --jitless "$root/dist/lib/cli.js" grade "$tmp/m.jsonl" --out "$tmp/out.jsonl" --quiet --jobs 1
  grep -q '"grade"' "$tmp/out.jsonl"
  rm -rf "$tmp"
  echo "sanitize: valgrind on a grading run: no invalid read/write, no definite leak"
fi
