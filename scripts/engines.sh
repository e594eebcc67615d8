#!/usr/bin/env bash
# The README's batch recipes ("Shard and merge") run for real: a sharded
# transcript corpus priced (1) in one run, (2) with GNU parallel, (3) with
# `xargs -P`, (4) with Spark's RDD.pipe (PySpark, local mode), and (5) the
# same with the lines shuffled across partitions; each sharded run merged
# with `tokmeter merge`. Each merged figure (tokens, cost, records,
# messages, the tokens and cost at each price) must equal the single run's
# exactly: one PASS or FAIL line per engine, exit 1 on any FAIL.
#
# Not part of CI. Installs what it lacks from the registries: GNU parallel
# (Debian, apt-get) and pyspark (PyPI, pip); Spark needs a JDK 17 or later on
# PATH. Hadoop Streaming is not run: neither Debian nor PyPI packages Hadoop,
# so it stays a documented recipe.
#
# Usage: scripts/engines.sh
#   TOKMETER=path/to/tokmeter   the binary (default: cargo build --release)
#   SHARDS=200 LINES=40         the corpus: SHARDS files of LINES records
#   WORK=dir                    where the corpus and results go (default: a
#                               new temporary directory, removed at the end)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shards="${SHARDS:-200}"
lines="${LINES:-40}"

if [[ -z "${TOKMETER:-}" ]]; then
    (cd "$root" && cargo build --release --quiet)
    TOKMETER="${CARGO_TARGET_DIR:-$root/target}/release/tokmeter"
fi
TOKMETER="$(realpath "$TOKMETER")"

if [[ -n "${WORK:-}" ]]; then
    mkdir -p "$WORK"
    work="$(realpath "$WORK")"
else
    work="$(mktemp -d -t tokmeter-engines.XXXXXX)"
    trap 'rm -rf "$work"' EXIT
fi

# What the recipes need.
if ! command -v parallel > /dev/null; then
    echo "engines: installing GNU parallel (apt-get)" >&2
    apt-get install -y parallel > /dev/null
fi
if ! python3 -c 'import pyspark' 2> /dev/null; then
    echo "engines: installing pyspark (pip)" >&2
    python3 -m pip install --quiet pyspark
fi
if ! java -version > /dev/null 2>&1; then
    echo "engines: Spark needs a JDK (java) on PATH" >&2
    exit 2
fi

# The recipes call `tokmeter` by name, as on a user's machine or an executor.
mkdir -p "$work/bin"
ln -sf "$TOKMETER" "$work/bin/tokmeter"
export PATH="$work/bin:$PATH"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$(command -v python3)}"
cd "$work"
rm -rf chats ledger.jsonl tokmeter-summaries results
mkdir chats results

# The corpus: each line a conversation of its own (the `messages` shape) or
# an assistant record with the provider's usage, so the figures do not depend
# on where a shard or a Spark partition cuts the lines.
python3 - "$shards" "$lines" <<'PY'
import json, random, sys
shards, lines = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(16)
words = ("the pipe reader token stream price model chunk summary merge shard "
         "budget cache prompt answer café naïve 東京 数据 ключ ✓ — 42 3.14").split()
def text(n):
    return " ".join(rng.choice(words) for _ in range(n))
for shard in range(shards):
    with open(f"chats/shard-{shard:04d}.jsonl", "w", encoding="utf-8") as out:
        for _ in range(lines):
            kind = rng.random()
            if kind < 0.6:
                messages = [{"role": "system", "content": text(8)}]
                for _ in range(rng.randint(1, 4)):
                    messages.append({"role": "user", "content": text(rng.randint(3, 30))})
                    messages.append({"role": "assistant",
                                     "content": [{"type": "text", "text": text(rng.randint(5, 60))}]})
                record = {"messages": messages}
            elif kind < 0.8:
                prompt = rng.randint(10, 5000)
                record = {"role": "assistant", "content": text(12),
                          "usage": {"prompt_tokens": prompt,
                                    "completion_tokens": rng.randint(1, 900),
                                    "prompt_tokens_details": {"cached_tokens": rng.randint(0, prompt)}}}
            else:
                record = {"type": "assistant",
                          "message": {"role": "assistant",
                                      "content": [{"type": "text", "text": text(10)}],
                                      "usage": {"input_tokens": rng.randint(1, 400),
                                                "output_tokens": rng.randint(1, 700),
                                                "cache_read_input_tokens": rng.randint(0, 9000),
                                                "cache_creation_input_tokens": rng.randint(0, 2000)}}}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
PY
echo "engines: $shards shards of $lines records in $work/chats, tokmeter $("$TOKMETER" --version)" >&2

# (1) One run over every shard: its total is the last line on stderr.
tokmeter --input transcript -m gpt-4.1 -s json chats/*.jsonl 2> results/single.stderr
tail -n 1 results/single.stderr > results/single.json

# (2) GNU parallel, as the README has it.
parallel -j 8 tokmeter --input transcript -m gpt-4.1 -s none --summary-file - ::: chats/*.jsonl | tokmeter merge > results/parallel.json

# (3) xargs -P, as the README has it.
rm -f ledger.jsonl
find chats -name '*.jsonl' | xargs -P 4 -n 50 tokmeter --input transcript -m gpt-4.1 -s none --summary-file ledger.jsonl && tokmeter merge ledger.jsonl > results/xargs.json

# (4) Spark RDD.pipe in local mode, as the README has it.
cat > spark_job.py <<'PY'
import os
from pyspark import SparkContext

sc = SparkContext("local[4]", "tokmeter")
(sc.textFile("chats/*.jsonl")
   .pipe("tokmeter --input transcript -m gpt-4.1 -s none --summary-file -",
         env={"PATH": os.environ["PATH"]}, checkCode=True)
   .saveAsTextFile("tokmeter-summaries"))
sc.stop()
PY
# (5) The same with the lines shuffled across 7 partitions, so partitions cut
# the shards anywhere: the corpus's figures do not depend on the cuts.
sed -e 's/\.pipe(/.repartition(7).pipe(/' -e 's/"tokmeter-summaries"/"tokmeter-shuffled"/' \
    spark_job.py > spark_shuffled.py
rm -rf tokmeter-shuffled
for job in spark:spark_job.py:tokmeter-summaries spark-shuffled:spark_shuffled.py:tokmeter-shuffled; do
    IFS=: read -r name script out <<< "$job"
    if python3 "$script" 2> "results/$name.stderr"; then
        tokmeter merge "$out"/part-* > "results/$name.json"
    else
        echo "engines: the Spark job $script failed; the end of its log:" >&2
        tail -n 20 "results/$name.stderr" >&2
    fi
done

# The figures, compared exactly (costs as their decimal text).
python3 - <<'PY'
import json, sys

FIELDS = ["total_tokens", "total_cost", "chunk_count"]
TRANSCRIPT = ["records", "messages", "records_from_usage", "records_tokenized", "bad_lines",
              "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "input_cost", "output_cost", "cache_read_cost", "cache_write_cost"]

def figures(path):
    try:
        summary = json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, IndexError, ValueError) as err:
        return {"sessions": 0, "error": f"no merged summary: {err}"}, None
    got = {field: summary[field] for field in FIELDS}
    got.update({f"transcript.{k}": summary["transcript"][k] for k in TRANSCRIPT})
    return summary, got

single, want = figures("results/single.json")
print(f"single run: {want['total_tokens']} tokens, ${want['total_cost']}, "
      f"{want['chunk_count']} records, {want['transcript.messages']} messages "
      f"({single['sessions']} files)")
failed = False
for engine, name in [("parallel", "GNU parallel"), ("xargs", "xargs -P"),
                     ("spark", "Spark RDD.pipe (local[4])"),
                     ("spark-shuffled", "Spark RDD.pipe, lines shuffled over 7 partitions")]:
    summary, got = figures(f"results/{engine}.json")
    if got is None:
        print(f"FAIL {name}: {summary['error']}")
        failed = True
        continue
    wrong = [f"{k}: {got[k]} != {want[k]}" for k in want if got[k] != want[k]]
    if summary.get("error") is not None:
        wrong.append(f"error: {summary['error']}")
    verdict = "FAIL" if wrong else "PASS"
    failed |= bool(wrong)
    print(f"{verdict} {name}: {got['total_tokens']} tokens, ${got['total_cost']}, "
          f"{got['chunk_count']} records, {got['transcript.messages']} messages "
          f"over {summary['sessions']} sessions" + ("" if not wrong else "; " + "; ".join(wrong)))
print("SKIP Hadoop Streaming: no Debian or PyPI package of Hadoop; a documented recipe only")
sys.exit(1 if failed else 0)
PY
