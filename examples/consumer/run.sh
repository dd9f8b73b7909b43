#!/usr/bin/env bash
# Packs Llmaot.Build + Llmaot.Generated.Runtime into ../.packages, builds this project against them (the SileroVad class is
# generated from the ONNX model during the build), runs it, then builds again to show that nothing is regenerated.
# Set PUBLISH_AOT=1 to also publish it with NativeAOT and run the native binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/../../../shared/models/onnx/silero_vad_16k_op15.onnx"
[ -f "$model" ] || { echo "error: $model not found: put the shared/ folder beside the repository" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

version=$(bash "$here/../pack-local.sh")
echo "== Llmaot.Build $version"
cd "$here"
build() { dotnet build consumer.csproj -c Release -p:LlmaotVersion="$version" -nologo -v m -clp:NoSummary 2>&1 | tee "$1"; }

echo "== first build"
rm -rf obj/Release bin/Release; mkdir -p obj
build obj/build1.log
grep -q "llmaot: generating SileroVad" obj/build1.log || { echo "error: the first build did not generate SileroVad" >&2; exit 1; }

echo "== run"
dotnet bin/Release/net10.0/consumer.dll | tee obj/run.log
grep -q "frame 7: speech probability" obj/run.log

echo "== second build (nothing changed)"
build obj/build2.log
if grep -q "llmaot: generating" obj/build2.log || ! grep -q "llmaot: SileroVad up to date" obj/build2.log; then
  echo "error: the second build regenerated SileroVad although nothing changed" >&2; exit 1
fi

if [ "${PUBLISH_AOT:-0}" = 1 ]; then
  echo "== dotnet publish -p:PublishAot=true"
  dotnet publish consumer.csproj -c Release -r linux-x64 -p:PublishAot=true -p:LlmaotVersion="$version" -o obj/aot -nologo -v q -clp:ErrorsOnly
  ./obj/aot/consumer | tail -2
fi
echo "consumer: OK (generated once, up to date on the second build)"
