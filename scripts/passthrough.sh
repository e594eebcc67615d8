#!/usr/bin/env bash
# passthrough.sh — raw pass-through inside a pipe, `cat f | X | cat`, for X in
# pv -q, this tokmeter (-t heuristic -s none), a previous tokmeter (BEFORE=)
# and cat, in alternating rounds (ratios are what to compare: absolute
# times move with the load on a shared machine). Prints, per round, each
# command's median wall time, then the median over rounds of each ratio to
# pv's time in the same round (above 1: faster than pv). Also checks the
# output is the input, byte for byte.
# Needs: hyperfine, pv, python3; the corpora in bench/corpus (scripts/bench.sh
# or scripts/vendor/bench/make_corpus.sh).
# Usage: BEFORE=/path/to/old/tokmeter scripts/passthrough.sh
#   ROUNDS=5 RUNS=10 COPIES=4 (input: COPIES × prose.txt, 210 MB by default)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
new="${TOKMETER:-$root/target/release/tokmeter}"
old="${BEFORE:-}"
corpus="${CORPUS:-$root/bench/corpus}"
rounds="${ROUNDS:-5}"
runs="${RUNS:-10}"
copies="${COPIES:-4}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
input="$work/input.txt"
for _ in $(seq "$copies"); do cat "$corpus/prose.txt"; done > "$input"
cat "$input" | "$new" -t heuristic -s none | cmp - "$input"

names=(pv tokmeter cat)
commands=("cat $input | pv -q | cat >/dev/null"
    "cat $input | $new -t heuristic -s none | cat >/dev/null"
    "cat $input | cat | cat >/dev/null")
if [[ -n "$old" ]]; then
    names+=(before)
    commands+=("cat $input | $old -t heuristic -s none | cat >/dev/null")
fi
for round in $(seq "$rounds"); do
    hyperfine -w 2 -r "$runs" --export-json "$work/round$round.json" "${commands[@]}" >/dev/null
done
python3 - "$work" "$rounds" "$(stat -c %s "$input")" "${names[@]}" <<'EOF'
import json, statistics, sys
work, rounds, size, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
ratios = {name: [] for name in names}
print(f"input: {size:,} bytes; per round, median seconds of each command")
print("| round | " + " | ".join(names) + " |")
print("|---|" + "---:|" * len(names))
for r in range(1, rounds + 1):
    results = json.load(open(f"{work}/round{r}.json"))["results"]
    medians = [statistics.median(x["times"]) for x in results]
    print(f"| {r} | " + " | ".join(f"{m:.4f}" for m in medians) + " |")
    for name, m in zip(names, medians):
        ratios[name].append(medians[0] / m)
print()
print("median over rounds of pv's time / each one's time (≥ 1.00: as fast as pv or faster):")
for name in names:
    print(f"- {name}: {statistics.median(ratios[name]):.2f}× pv (rounds: "
          + ", ".join(f"{x:.2f}" for x in ratios[name]) + ")")
EOF
