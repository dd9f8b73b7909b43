#!/usr/bin/env bash
# Builds MNIST into a native executable, runs it on a digit-like input, and checks it against ONNX Runtime.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="$root/../shared/models/onnx/mnist.onnx"
out="${1:-/tmp/llmaot-mnist}"
[ -f "$model" ] || { echo "error: $model not found: put the shared/ folder beside the repository" >&2; exit 1; }

"$root/llmaot" build "$model" -o "$out"
"$out/mnist" --info
"$out/mnist" --bench 1000
"$root/llmaot" verify "$model"
