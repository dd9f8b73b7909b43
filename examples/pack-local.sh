#!/usr/bin/env bash
# Packs Llmaot.Generated.Runtime and Llmaot.Build into examples/.packages (git-ignored) and prints the version on stdout.
# The version ends in a hash of everything that goes into the packages, so a changed compiler or targets file gets a new
# version and NuGet's global cache (~/.nuget/packages, keyed by id and version) never serves a stale copy; unchanged
# sources reuse the packages already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/examples/.packages"
hash=$(cd "$root" && find src/Build src/Compiler/Llmaot.Cli src/Compiler/Llmaot.Compiler src/Generated.Runtime Directory.Build.props Directory.Packages.props \
    -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.md' \) -not -path '*/obj/*' -not -path '*/bin/*' \
  | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
base=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)
version="${base:-0.1.0}-local.h$hash"
if [ ! -f "$out/Llmaot.Build.$version.nupkg" ] || [ ! -f "$out/Llmaot.Generated.Runtime.$version.nupkg" ]; then
  echo "packing Llmaot.Generated.Runtime and Llmaot.Build $version into $out" >&2
  mkdir -p "$out"
  rm -f "$out"/Llmaot.*.nupkg
  for p in src/Generated.Runtime/Llmaot.Runtime.csproj src/Build/Llmaot.Build/Llmaot.Build.csproj; do
    dotnet pack "$root/$p" -c Release -o "$out" -p:PackageVersion="$version" -nologo -v q -clp:ErrorsOnly >&2
  done
fi
echo "$version"
