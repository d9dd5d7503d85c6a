#!/usr/bin/env bash
# Installs vkflow's build/run dependencies from Debian 12 packages (nothing is downloaded elsewhere).
set -euo pipefail
PKGS="build-essential cmake pkg-config libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  glslang-tools glslang-dev glslc spirv-tools libvkfft-dev libimgui-dev libglfw3-dev libx11-dev libxext-dev libstb-dev
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
# Debian's nodejs + npm, unless a node with its own npm (e.g. nodesource's) is already there.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "vkflow: installing: nodejs npm"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm ||
    echo "vkflow: warning: could not install nodejs/npm; the npm client tests will be skipped"
fi
NPM_DIR="$(cd "$(dirname "$0")" && pwd)/npm"
if command -v npm >/dev/null 2>&1; then
  if ! cmp -s "$NPM_DIR/package-lock.json" "$NPM_DIR/node_modules/.vkflow-lock.json" 2>/dev/null; then
    # Not fatal: without the registry the build and every other test still run.
    if (cd "$NPM_DIR" && timeout 600 npm ci --no-audit --no-fund --loglevel=error); then
      cp "$NPM_DIR/package-lock.json" "$NPM_DIR/node_modules/.vkflow-lock.json"
    else
      echo "vkflow: warning: npm ci failed (registry unreachable?); the npm client tests will be skipped"
      rm -rf "$NPM_DIR/node_modules"
    fi
  fi
else
  echo "vkflow: npm not found; tests/server/npm client tests will be skipped"
fi
