#!/usr/bin/env bash
# Regenerates the JSON seeds of fuzz/corpus/json from the expression seeds of
# fuzz/corpus/parse: the documents the symgraph command prints for each
# expression as written, optimized, and as the gradient graph (these reach the
# ops autodiff builds: broadcast_to, sum_to, reshape, ...). The hand-written
# seeds (seed-*) stay. Usage: fuzz/make_seeds.sh path/to/symgraph
set -euo pipefail
cd "$(dirname "$0")"
symgraph=$(realpath "${1:?usage: $0 path/to/symgraph}")
vars=(--var 'x:float64[?]' --var 'y:float64[3]' --var 's:float64[]' --var 'm:float64[2,3]'
      --var 'f:float32[?]' --var 'g:float32[3,?]' --var 'c:bool[?]' --var 'b:bool[2,3]')
out=corpus/json
find "$out" -type f ! -name 'seed-*' -delete
add() { local f; f=$(mktemp); if "$@" > "$f" 2>/dev/null; then mv "$f" "$out/$(sha1sum < "$f" | cut -c1-40)"; else rm -f "$f"; fi; }
for seed in corpus/parse/*; do
  expr=$(cat "$seed")
  add "$symgraph" print "${vars[@]}" -e "$expr"
  add "$symgraph" opt "${vars[@]}" -e "$expr"
  for wrt in x y s m f g; do add "$symgraph" grad "${vars[@]}" -e "$expr" --wrt "$wrt" --passes none; done
done
echo "$(ls "$out" | wc -l) JSON seeds in $out"
