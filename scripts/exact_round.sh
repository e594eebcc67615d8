#!/usr/bin/env bash
# exact_round.sh — exact counting, this binary against a previous one and
# Python tiktoken, in one run (ratios are what to compare; absolute times move
# with the load on a shared machine):
#   1. one core (taskset -c 0): o200k_base and cl100k_base on prose, code and
#      multilingual, `-s none -f raw` (line chunks, as the meter pushes them),
#      hyperfine, the two binaries side by side; counts checked equal;
#   2. Python tiktoken `encode_ordinary` of the whole file, same core, in process;
#   3. start-up on `hi\n`: heuristic and exact, both binaries (hyperfine -N);
#   4. peak memory (/usr/bin/time %M), exact o200k on prose.txt;
#   5. one large input on both cores, one core vs two: line chunks (raw
#      output counts a run of lines, its middle on a second thread) and `-z`
#      (1 MiB chunks: each push is cut and counted in parallel);
#   6. binary sizes.
# Needs: hyperfine, /usr/bin/time, taskset, python3 with tiktoken (pip install
# tiktoken; the rank file is taken from build/data, no download), the corpora
# in bench/corpus (scripts/bench.sh or scripts/vendor/bench/make_corpus.sh).
# Usage: BEFORE=/path/to/old/tokmeter scripts/exact_round.sh   (RUNS=5 default)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
new="${TOKMETER:-$root/target/release/tokmeter}"
old="${BEFORE:?give BEFORE=path to the previous binary}"
corpus="${CORPUS:-$root/bench/corpus}"
runs="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'hi\n' > "$work/hi.txt"

total() { "$1" -t "$2" -s json < "$3" 2>&1 >/dev/null | tail -n 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total_tokens"])'; }
mean() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.4f" % x["mean"] for x in r))' "$1"; }

echo "## one core: seconds (mean of $runs), old/new ratio, counts"
echo "| encoding | corpus | before | after | before/after | tiktoken | tiktoken/after | counts equal |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
cache="$work/tiktoken"
mkdir -p "$cache"
for encoding in o200k_base cl100k_base; do
    url="https://openaipublic.blob.core.windows.net/encodings/$encoding.tiktoken"
    zcat "$root/build/data/$encoding.tiktoken.gz" > "$cache/$(printf %s "$url" | sha1sum | cut -d' ' -f1)"
    for name in prose code multilingual; do
        file="$corpus/$name.txt"
        hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/t.json" \
            "taskset -c 0 $old -t $encoding -s none -f raw < $file" \
            "taskset -c 0 $new -t $encoding -s none -f raw < $file" > /dev/null
        read -r before after <<< "$(mean "$work/t.json")"
        a="$(total "$old" "$encoding" "$file")"
        b="$(total "$new" "$encoding" "$file")"
        read -r tk tkcount <<< "$(TIKTOKEN_CACHE_DIR="$cache" taskset -c 0 python3 - "$file" "$encoding" <<'PY'
import sys, time, tiktoken
enc = tiktoken.get_encoding(sys.argv[2])
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
start = time.perf_counter()
count = len(enc.encode_ordinary(text))
print(f"{time.perf_counter() - start:.3f} {count}")
PY
)"
        python3 -c "b,a,t=$before,$after,$tk; print(f'| $encoding | $name | {b:.3f} | {a:.3f} | {b/a:.2f}× | {t:.3f} | {t/a:.2f}× | {\"yes\" if \"$a\"==\"$b\"==\"$tkcount\" else \"NO: $a $b $tkcount\"} ($b) |')"
    done
done

echo
echo "## start-up on hi\\n (ms, mean of 50)"
hyperfine -N --style none --warmup 3 --runs 50 --export-json "$work/s.json" \
    "$new -s none -t heuristic -f raw $work/hi.txt" \
    "$new -s none -t o200k_base -f raw $work/hi.txt" \
    "$new -s none -t cl100k_base -f raw $work/hi.txt" \
    "$old -s none -t heuristic -f raw $work/hi.txt" \
    "$old -s none -t o200k_base -f raw $work/hi.txt" > /dev/null
read -r h o c oh oo <<< "$(mean "$work/s.json")"
python3 -c "h,o,c,oh,oo=$h,$o,$c,$oh,$oo; print(f'after: heuristic {h*1e3:.2f}, o200k {o*1e3:.2f} ({o/h:.2f}× heuristic), cl100k {c*1e3:.2f} ({c/h:.2f}×); before: heuristic {oh*1e3:.2f}, o200k {oo*1e3:.2f} ({oo/oh:.1f}× heuristic)')"

echo
echo "## peak memory, exact o200k_base, prose.txt (KiB)"
for bin in "$old" "$new"; do
    /usr/bin/time -o "$work/m.txt" -f "$bin: %M KiB" "$bin" -s none -t o200k_base -f raw "$corpus/prose.txt" > /dev/null
    cat "$work/m.txt"
done

echo
echo "## one large input, one core vs two (s, mean of $runs): lines (raw output counts runs of lines), and -z (1 MiB chunks)"
for name in prose code multilingual; do
    file="$corpus/$name.txt"
    for z in "" "-z"; do
        hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/p.json" \
            "taskset -c 0 $new -t o200k_base -s none -f raw $z < $file" \
            "$new -t o200k_base -s none -f raw $z < $file" > /dev/null
        read -r one two <<< "$(mean "$work/p.json")"
        python3 -c "o,t=$one,$two; print(f'$name ${z:-lines}: one core {o:.3f}, two cores {t:.3f}: {o/t:.2f}×')"
    done
done

echo
echo "## binary size (bytes)"
stat -c '%n %s' "$old" "$new"
