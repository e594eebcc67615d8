#!/usr/bin/env bash
# The cost of --progress: raw and json throughput with and without it, with
# stderr on a pseudo-terminal (util-linux `script`), where the live line is
# really drawn; stdout goes to /dev/null. Needs hyperfine and script.
# Usage: scripts/progress_cost.sh [FILE]   (default bench/corpus/prose.txt)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$root/bench/corpus/prose.txt}"
bin="${TOKMETER:-$root/target/release/tokmeter}"
runs="${RUNS:-10}"
json="$(mktemp)"
trap 'rm -f "$json"' EXIT
pty() { printf 'script -qec %q /dev/null' "$1"; }
hyperfine -N --warmup 1 --runs "$runs" --export-json "$json" --style none \
    -n "raw" "$(pty "$bin -t heuristic -f raw < $file > /dev/null")" \
    -n "raw --progress" "$(pty "$bin -t heuristic -f raw --progress < $file > /dev/null")" \
    -n "json" "$(pty "$bin -t heuristic -f json < $file > /dev/null")" \
    -n "json --progress" "$(pty "$bin -t heuristic -f json --progress < $file > /dev/null")" >/dev/null
python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
print("| format | median without | median with --progress | change |")
print("|---|---:|---:|---:|")
for fmt in ("raw", "json"):
    base, with_progress = results[fmt], results[fmt + " --progress"]
    print(f"| {fmt} | {base * 1000:.1f} ms | {with_progress * 1000:.1f} ms | {100 * (with_progress / base - 1):+.1f}% |")
PY
