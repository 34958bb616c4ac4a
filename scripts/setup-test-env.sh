#!/usr/bin/env bash
# Install what the test suite needs: system packages (Debian/Ubuntu, as root) and the Python extras.
set -euo pipefail
cd "$(dirname "$0")/.."

system_packages=(dataset-fashion-mnist chromium chromium-driver postgresql)
missing=()
for package in "${system_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "note: not installing ${missing[*]} (needs apt-get as root); the tests that need them will skip" >&2
  fi
fi

# torch for Optuna's GP sampler: 2.13.0 is the CPU build that lies on this image's disk; elsewhere pip
# fetches it from PyPI.
python3 -m pip install -q -e ".[test,postgres,onnx,tflite,dashboard]" "torch==2.13.0"
