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
