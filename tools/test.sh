#!/usr/bin/env bash
# The README's test command: installs dependencies, builds Release and runs the whole suite through
# ctest (GPU tests on the first Vulkan device — lavapipe on a machine without a GPU — with validation
# layers on), then builds Debug + ASan/UBSan and runs the CPU-side tests ([cpu] tag) under it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
export MESA_SHADER_CACHE_DIR="$PWD/build/mesa_cache"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVKFLOW_SANITIZE=ON
cmake --build build-asan -j2 --target vkflow_tests vkflow
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j2
# Fuzz smoke (#13): the libFuzzer targets built with clang-14 in build-fuzz/, 20 s each over tests/fuzz/.
FUZZ_SECONDS=20 bash tools/fuzz_smoke.sh
