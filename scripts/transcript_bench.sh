#!/usr/bin/env bash
# Transcript pricing throughput: transcript.jsonl as one file, and cut into 8
# shards priced with -j 1 and -j 2 (the speed-up of parallel files), for the
# heuristic and o200k_base, and peak memory. Prints Markdown. Needs hyperfine
# and /usr/bin/time.
# Usage: scripts/transcript_bench.sh [FILE]   (default bench/corpus/transcript.jsonl)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$root/bench/corpus/transcript.jsonl}"
bin="${TOKMETER:-$root/target/release/tokmeter}"
runs="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
split -n l/8 -d "$file" "$work/shard-"
shards=("$work"/shard-*)
price="$bin --input transcript -m gpt-4.1 -s none"
args=(-N --warmup 1 --runs "$runs" --export-json "$work/t.json" --style none)
for t in heuristic o200k_base; do
    args+=(-n "$t, one file" "$price -t $t $file")
    args+=(-n "$t, 8 shards, -j 1" "$price -t $t -j 1 ${shards[*]}")
    args+=(-n "$t, 8 shards, -j 2" "$price -t $t -j 2 ${shards[*]}")
done
hyperfine "${args[@]}" > /dev/null
python3 - "$work/t.json" "$(stat -c %s "$file")" "$(wc -l < "$file")" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size, lines = int(sys.argv[2]), int(sys.argv[3])
print(f"transcript.jsonl: {size / 1e6:.1f} MB, {lines:,} records; model gpt-4.1; wall medians; "
      "cpu = user + sys; speed-up = -j 1 median ÷ -j 2 median.\n")
print("| tokenizer | run | wall s | cpu s | MB/s | records/s | speed-up |")
print("|---|---|---:|---:|---:|---:|---:|")
for t in ("heuristic", "o200k_base"):
    one = results[f"{t}, 8 shards, -j 1"]["median"]
    for run in ("one file", "8 shards, -j 1", "8 shards, -j 2"):
        r = results[f"{t}, {run}"]
        med = r["median"]
        speed = f"{one / med:.2f}×" if run.endswith("-j 2") else "–"
        print(f"| {t} | {run} | {med:.3f} | {r['user'] + r['system']:.3f} | {size / 1e6 / med:,.0f} | "
              f"{lines / med:,.0f} | {speed} |")
PY
echo
echo "Peak memory (/usr/bin/time %M, one run each):"
echo
for run in "heuristic one file:-t heuristic $file" "o200k_base one file:-t o200k_base $file" \
           "o200k_base 8 shards -j 2:-t o200k_base -j 2 ${shards[*]}"; do
    # shellcheck disable=SC2086
    kib="$(/usr/bin/time -f %M $price ${run#*:} 2>&1 >/dev/null | tail -n 1)"
    echo "- ${run%%:*}: $((kib / 1024)) MiB"
done
