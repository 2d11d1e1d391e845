#!/usr/bin/env bash
# Installs onnxruntime for the ONNX parity test into tools/onnx-check/node_modules from the npm
# registry, once; safe to run from several test processes at a time (flock). Exits 0 when a
# runtime loads. --ignore-scripts: onnxruntime-node's install script fetches optional GPU parts
# from a host that cannot be reached, and the CPU binary for Linux x64 is in the package itself.
# Fallback: onnxruntime-web (WebAssembly) under Node.js.
set -euo pipefail
cd "$(dirname "$0")"
command -v node > /dev/null && command -v npm > /dev/null || { echo "node/npm not found" >&2; exit 3; }
exec 9> .install.lock
flock 9
loads() { node -e "require('$1')" > /dev/null 2>&1; }
loads onnxruntime-node && exit 0
echo "onnx-check: npm ci --ignore-scripts (onnxruntime-node)" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || echo "onnx-check: npm ci failed" >&2
loads onnxruntime-node && exit 0
echo "onnx-check: onnxruntime-node does not load; installing onnxruntime-web" >&2
npm install --ignore-scripts --no-audit --no-fund --no-save --loglevel=error onnxruntime-web@1.20.1 >&2
loads onnxruntime-web
