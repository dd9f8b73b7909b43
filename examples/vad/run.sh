#!/usr/bin/env bash
# Builds the vad example against locally packed Llmaot.Build (SileroVad is generated from the ONNX model during the build),
# synthesizes a 16 kHz recording with three speech-like bursts, prints the speech segments Silero VAD finds and checks they
# match the bursts (within 0.25 s) with the pauses between them detected; then publishes with NativeAOT (skip with AOT=0)
# and checks the native binary finds the same segments, and shows that a second build regenerates nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/../../../shared/models/onnx/silero_vad_16k_op15.onnx"
[ -f "$model" ] || { echo "error: $model not found: put the shared/ folder beside the repository" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

version=$(bash "$here/../pack-local.sh")
echo "== Llmaot.Build $version"
cd "$here"
rm -rf obj/Release bin/Release; mkdir -p obj
echo "== build"
dotnet build vad.csproj -c Release -p:LlmaotVersion="$version" -nologo -v m -clp:NoSummary 2>&1 | tee obj/build1.log
grep -q "llmaot: generating SileroVad" obj/build1.log || { echo "error: the build did not generate SileroVad" >&2; exit 1; }

echo "== synthesize obj/demo.wav"
dotnet bin/Release/net10.0/vad.dll --synth obj/demo.wav | tee obj/synth.log
echo "== vad obj/demo.wav"
dotnet bin/Release/net10.0/vad.dll obj/demo.wav | tee obj/vad.log

# Every burst must be found as one segment whose ends are within 0.25 s of the burst's, and nothing else.
check() {
  awk '
    FNR == NR && /^burst / { split($2, a, "-"); bs[++nb] = a[1]; be[nb] = a[2]; next }
    /^speech / { split($2, a, "-"); ss[++ns] = a[1]; se[ns] = a[2] }
    END {
      if (nb == 0) { print "error: no bursts in the synth log"; exit 1 }
      if (ns != nb) { printf "error: %d speech segment(s) for %d bursts\n", ns, nb; exit 1 }
      for (i = 1; i <= nb; i++) {
        d1 = ss[i] - bs[i]; d2 = se[i] - be[i]; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
        if (d1 > 0.25 || d2 > 0.25) { printf "error: segment %d is %s-%s s, burst %s-%s s\n", i, ss[i], se[i], bs[i], be[i]; exit 1 }
      }
      printf "segments match the %d bursts (the %d pauses between them detected as silence)\n", nb, nb - 1
    }' "$1" "$2"
}
check obj/synth.log obj/vad.log

if [ "${AOT:-1}" = 1 ]; then
  echo "== dotnet publish -p:PublishAot=true"
  dotnet publish vad.csproj -c Release -r linux-x64 -p:PublishAot=true -p:LlmaotVersion="$version" -o obj/aot -nologo -v m -clp:NoSummary 2>&1 | tee obj/publish.log | grep -E "llmaot|error" || true
  [ -x obj/aot/vad ] || { echo "error: NativeAOT publish produced no obj/aot/vad" >&2; tail -20 obj/publish.log >&2; exit 1; }
  ls -l obj/aot/vad | awk '{ print "native binary: " $5 " bytes" }'
  ./obj/aot/vad obj/demo.wav | tee obj/vad-aot.log
  check obj/synth.log obj/vad-aot.log
fi

echo "== build again (nothing changed)"
dotnet build vad.csproj -c Release -p:LlmaotVersion="$version" -nologo -v m -clp:NoSummary 2>&1 | tee obj/build2.log
if grep -q "llmaot: generating" obj/build2.log || ! grep -q "llmaot: SileroVad up to date" obj/build2.log; then
  echo "error: the second build regenerated SileroVad although nothing changed" >&2; exit 1
fi
echo "vad: OK"
