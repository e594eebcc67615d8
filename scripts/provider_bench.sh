#!/usr/bin/env bash
# provider_bench.sh — throughput and latency of provider stream decoding.
#
#   1. builds /tmp/tokmeter-bench/deltas.sse: one OpenAI Chat Completions
#      stream of 1,000,000 content deltas (172 MB), and the same text as
#      1,000,000 lines (deltas.txt);
#   2. hyperfine: --input openai-chat with -f raw, -f text and -f json (the
#      heuristic), and the text path (-f json on deltas.txt), in one run;
#   3. the latency probe (scripts/vendor/bench/latency_probe.py): an Ollama
#      stream of 300 lines, one every 10 ms, through cat and tokmeter
#      --input ollama (raw, json).
#
# Needs: hyperfine, python3. Usage: scripts/provider_bench.sh [TOKMETER]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$repo/target/release/tokmeter}"
probe="${PROBE:-$repo/scripts/vendor/bench/latency_probe.py}"
dir=/tmp/tokmeter-bench
mkdir -p "$dir"
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":'
with open(f"{d}/deltas.sse", "w") as f:
    f.write("data: " + head + '{"role":"assistant","content":""},"finish_reason":null}]}\n\n')
    chunk = "data: " + head + '{"content":" tok"},"finish_reason":null}]}\n\n'
    for _ in range(1_000_000):
        f.write(chunk)
    f.write("data: [DONE]\n\n")
with open(f"{d}/deltas.txt", "w") as f:
    for _ in range(1_000_000):
        f.write(" tok\n")
with open(f"{d}/ollama.txt", "w") as f:
    for i in range(300):
        f.write(json.dumps({"model": "llama3.2", "created_at": "2026-12-02T00:00:00Z",
                            "message": {"role": "assistant", "content": f" tok{i}"}, "done": False}) + "\n")
PY
hyperfine --warmup 1 --runs 5 \
  "$bin --input openai-chat -t heuristic -s none < $dir/deltas.sse > /dev/null" \
  "$bin --input openai-chat -t heuristic -f text -s none < $dir/deltas.sse > /dev/null" \
  "$bin --input openai-chat -t heuristic -f json -s none < $dir/deltas.sse > /dev/null" \
  "$bin -t heuristic -f json -s none < $dir/deltas.txt > /dev/null"
for cmd in "cat" "$bin --input ollama -m gpt-4o" "$bin --input ollama -m gpt-4o -f json"; do
  # shellcheck disable=SC2086
  python3 "$probe" --input "$dir/ollama.txt" -- $cmd
done
