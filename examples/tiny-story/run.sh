#!/usr/bin/env bash
# Builds the stories260K language model (llama2.c checkpoint) into one native text generator and runs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
models="$root/../shared/models/llama2c"
out="${1:-/tmp/llmaot-tiny-story}"
[ -f "$models/stories260K.bin" ] || { echo "error: $models/stories260K.bin not found: put the shared/ folder beside the repository" >&2; exit 1; }

"$root/llmaot" build "$models/stories260K.bin" --tokenizer "$models/tok512.bin" -o "$out"
"$out/stories260K" --info
"$out/stories260K" -p "Once upon a time" -n 100 --temp 0.8 --seed 42
"$out/stories260K" --temp 0 -n 255 --threads 1 | cmp - "$models/stories260K.greedy256.expected.txt" && echo "greedy text matches llama2.c byte for byte"
