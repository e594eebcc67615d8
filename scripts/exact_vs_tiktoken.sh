#!/usr/bin/env bash
# Exact o200k_base counting throughput: tokmeter (whole binary, one core)
# beside OpenAI's Python tiktoken on the same file, and whether they agree.
#
# Needs: python3 with tiktoken (pip install tiktoken) and its rank file, which
# tiktoken would download; offline, it takes the copy shipped in the
# tiktoken-rs crate (cargo fetch it in any scratch crate, or give RANKS=dir),
# placed in TIKTOKEN_CACHE_DIR under the sha1 of its download URL.
# Usage: scripts/exact_vs_tiktoken.sh [FILE]   (default bench/corpus/prose.txt)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$root/bench/corpus/prose.txt}"
bin="${TOKMETER:-$root/target/release/tokmeter}"
[ -x "$bin" ] || (cd "$root" && cargo build --release -q)
python3 -c 'import tiktoken' 2>/dev/null || { echo "exact_vs_tiktoken: pip install tiktoken" >&2; exit 1; }
ranks="${RANKS:-$(ls -d "$HOME"/.cargo/registry/src/*/tiktoken-rs-*/assets 2>/dev/null | tail -n 1)}"
[ -f "$ranks/o200k_base.tiktoken" ] || { echo "exact_vs_tiktoken: no o200k_base.tiktoken (set RANKS=dir)" >&2; exit 1; }
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
url="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
cp "$ranks/o200k_base.tiktoken" "$cache/$(printf %s "$url" | sha1sum | cut -d' ' -f1)"
bytes=$(stat -c %s "$file")

start=$(date +%s.%N)
tokens=$(taskset -c 0 "$bin" -t o200k_base -s json -z < "$file" 2>&1 >/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["total_tokens"])')
end=$(date +%s.%N)
echo "tokmeter -t o200k_base (-z: chunks of 1 MiB): $tokens tokens, $(python3 -c "print(f'{$bytes/($end-$start)/1e6:.1f}')") MB/s"
start=$(date +%s.%N)
"$bin" -t o200k_base -s none < "$file" > /dev/null
end=$(date +%s.%N)
echo "tokmeter -t o200k_base (line chunks): $(python3 -c "print(f'{$bytes/($end-$start)/1e6:.1f}')") MB/s"
TIKTOKEN_CACHE_DIR="$cache" python3 - "$file" "$tokens" <<'PY'
import sys, time, tiktoken
enc = tiktoken.get_encoding("o200k_base")
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
start = time.perf_counter()
count = len(enc.encode_ordinary(text))
seconds = time.perf_counter() - start
print(f"python tiktoken {tiktoken.__version__} encode_ordinary: {count} tokens, "
      f"{len(text.encode()) / seconds / 1e6:.1f} MB/s; agrees with tokmeter: {count == int(sys.argv[2])}")
PY
