#!/usr/bin/env bash
# Solve every instance in ../shared/bench/vrp with the CLI and check each .sol independently.
#   bash bench/solve_all.sh [SECONDS] [JOBS]   (default 1 s per instance, 2 instances at a time;
#                                              writes bench/out/sol/)
set -u
cd "$(dirname "$0")/.."
T=${1:-1}
JOBS=${2:-2}
VRP=../shared/bench/vrp
OUT=bench/out/sol
mkdir -p "$OUT"
rm -f "$OUT"/*.ok "$OUT"/*.failed

one() {  # one instance: solve with the CLI, then check the .sol with the independent checker
  f=$1; T=$2; OUT=$3
  name=$(basename "${f%.*}")
  conv=()
  case "$f" in */homberger/*|*/lilim/*) conv=(--convention exact) ;; esac
  if .venv/bin/python -m routing solve "$f" --time-limit "$T" --out "$OUT/$name.sol" --quiet >/dev/null 2>&1 \
     && .venv/bin/python bench/check_sol.py "$f" "$OUT/$name.sol" "${conv[@]}" >/dev/null; then
    touch "$OUT/$name.ok"
  else
    touch "$OUT/$name.failed"
  fi
}
export -f one

ls "$VRP"/solomon/*.txt "$VRP"/homberger/*.txt "$VRP"/lilim/*.txt "$VRP"/cvrp/*.vrp \
  | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {} "$T" "$OUT"
ok=$(find "$OUT" -name '*.ok' | wc -l)
bad=$(find "$OUT" -name '*.failed' | wc -l)
echo "solved and independently checked: $ok passed, $bad failed"
[ "$bad" = 0 ] || echo "failed: $(cd "$OUT" && ls *.failed | sed 's/.failed$//' | tr '\n' ' ')"
