#!/usr/bin/env bash
# hello-sine: the model the repository makes itself. Builds examples/hello-sine/sine.onnx for linux-x64 and linux-arm64,
# runs both (arm64 under qemu-aarch64 when this machine is not arm64) on 16 points and prints the predictions next to sin(x).
# `bash run.sh --retrain` first retrains sine.onnx with the C# trainer (seeded: the same bytes again).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${OUT:-/tmp/llmaot-hello-sine}"
trainer="$out/trainer"
mkdir -p "$out"

dotnet build "$here/trainer/trainer.csproj" -c Release -o "$trainer" -nologo -v quiet -clp:ErrorsOnly >&2
if [ "${1:-}" = "--retrain" ]; then
  dotnet "$trainer/hello-sine-trainer.dll" train "$here/sine.onnx"
fi
dotnet "$trainer/hello-sine-trainer.dll" inputs "$out/x.npy" 16

for rid in linux-x64 linux-arm64; do
  "$root/llmaot" build "$here/sine.onnx" -o "$out/$rid" --name sine --dim batch=16 --target "$rid"
  run=()
  if [ "$rid" = linux-arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    command -v qemu-aarch64 >/dev/null || { echo "qemu-aarch64 missing: apt-get install qemu-user (skipping the arm64 run)" >&2; continue; }
    run=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  fi
  "${run[@]}" "$out/$rid/sine" --input x="$out/x.npy" --output-dir "$out/$rid/out"
  echo "== $rid =="
  dotnet "$trainer/hello-sine-trainer.dll" compare "$out/x.npy" "$out/$rid/out/y.npy"
done
