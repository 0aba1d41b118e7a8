#!/usr/bin/env bash
# Solve every instance in ../shared/bench/vrp with the CLI and check each .sol independently.
#   bash bench/solve_all.sh [SECONDS]      (default 1 s per instance; writes bench/out/sol/)
set -u
cd "$(dirname "$0")/.."
T=${1:-1}
VRP=../shared/bench/vrp
OUT=bench/out/sol
mkdir -p "$OUT"
ok=0; bad=0; failed=()
for f in "$VRP"/solomon/*.txt "$VRP"/homberger/*.txt "$VRP"/lilim/*.txt "$VRP"/cvrp/*.vrp; do
  name=$(basename "${f%.*}")
  conv=()
  case "$f" in */homberger/*|*/lilim/*) conv=(--convention exact) ;; esac
  if .venv/bin/python -m routing solve "$f" --time-limit "$T" --out "$OUT/$name.sol" --quiet >/dev/null 2>&1 \
     && .venv/bin/python bench/check_sol.py "$f" "$OUT/$name.sol" "${conv[@]}" >/dev/null; then
    ok=$((ok + 1))
  else
    bad=$((bad + 1)); failed+=("$name")
  fi
done
echo "solved and independently checked: $ok passed, $bad failed"
[ "$bad" = 0 ] || echo "failed: ${failed[*]}"
