#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, -DVKFLOW_FUZZ=ON, only them) in build-fuzz/ and runs each over
# its seed corpus tests/fuzz/<target>/ for FUZZ_SECONDS (default 20). New inputs go to build-fuzz/corpus/,
# crashes to build-fuzz/crashes/; any crash fails the script. Usage: tools/fuzz_smoke.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-20}"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DVKFLOW_FUZZ=ON -DVKFLOW_TESTS=OFF >/dev/null
cmake --build build-fuzz -j2 --target vkflow_fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors graph_json workflow_json image tokenizer http safe_path)
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz_$t: ${SECONDS_EACH}s"
  rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "build-fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" \
    -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$t-" "build-fuzz/corpus/$t" "tests/fuzz/$t" >"build-fuzz/fuzz_$t.log" 2>&1 || rc=$?
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|cov: .*DONE|ERROR|SUMMARY|Test unit written" \
    "build-fuzz/fuzz_$t.log" || true
  [ "$rc" -eq 0 ] || { echo "fuzz_$t: FAILED (log build-fuzz/fuzz_$t.log, input in build-fuzz/crashes/)"; exit 1; }
done
