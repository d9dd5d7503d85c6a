#!/usr/bin/env bash
# Installs vkflow's build/run dependencies from Debian 12 packages (nothing is downloaded elsewhere).
set -euo pipefail
PKGS="build-essential cmake pkg-config libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  glslang-tools glslang-dev glslc spirv-tools libvkfft-dev libimgui-dev libglfw3-dev libstb-dev
  nlohmann-json3-dev catch2 zlib1g-dev libboost1.81-dev libsqlite3-dev python3-websocket xvfb xauth imagemagick python3-numpy python3-torch dataset-fashion-mnist
  clang-14 libfuzzer-14-dev"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "vkflow: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# The ComfyUI clients from npm that tests/server/npm/*.mjs drive (pinned by tools/npm/package-lock.json);
# skipped when node_modules already matches the lock.
NPM_DIR="$(cd "$(dirname "$0")" && pwd)/npm"
if command -v npm >/dev/null 2>&1; then
  if ! cmp -s "$NPM_DIR/package-lock.json" "$NPM_DIR/node_modules/.vkflow-lock.json" 2>/dev/null; then
    (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.vkflow-lock.json)
  fi
else
  echo "vkflow: npm not found; tests/server/npm client tests will be skipped"
fi
