#!/usr/bin/env python3
"""Measure the heuristic tokenizer's error against exact o200k_base counts.

For each sample text, runs the tokmeter binary twice (-t heuristic and
-t o200k_base, JSON summary) and prints a Markdown table of the relative error
(heuristic - exact) / exact, for the byte rule tokmeter uses and for the
origin's chars/4 rule (computed here, in Python, on the same text).

Samples are cut from the benchmark corpora (scripts/bench.sh builds them into
bench/corpus with scripts/vendor/bench/make_corpus.sh):
  prose  - the first 4 MB of prose.txt
  code   - the first 4 MB of code.txt
  CJK    - lines of multilingual.txt that are mostly CJK/kana/hangul, 2 MB
  mixed  - the first 4 MB of multilingual.txt (73% ASCII, the rest 2-4 byte)

Usage: scripts/heuristic_error.py [--bin target/release/tokmeter] [--corpus bench/corpus]
"""
import argparse
import json
import os
import subprocess
import sys

CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))


def is_cjk(ch):
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


def mostly_cjk(line):
    letters = [c for c in line if not c.isspace()]
    return letters and sum(map(is_cjk, letters)) / len(letters) >= 0.5


def count(binary, tokenizer, data):
    out = subprocess.run(
        [binary, "-s", "json", "-t", tokenizer, "--unknown-model", "zero", "-m", "x"],
        input=data, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True,
    )
    summary = json.loads(out.stderr.decode().strip().splitlines()[-1])
    assert summary["tokenizer"] == tokenizer, summary
    return summary["total_tokens"]


def head(path, limit):
    with open(path, "rb") as f:
        data = f.read(limit)
    return data[: data.rfind(b"\n") + 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--bin", default=os.path.join(root, "target/release/tokmeter"))
    parser.add_argument("--corpus", default=os.path.join(root, "bench/corpus"))
    args = parser.parse_args()

    mb = 1 << 20
    multilingual = os.path.join(args.corpus, "multilingual.txt")
    with open(multilingual, encoding="utf-8", errors="replace") as f:
        cjk_lines, size = [], 0
        for line in f:
            if mostly_cjk(line):
                cjk_lines.append(line)
                size += len(line.encode())
                if size >= 2 * mb:
                    break
    samples = [
        ("English prose", head(os.path.join(args.corpus, "prose.txt"), 4 * mb)),
        ("code", head(os.path.join(args.corpus, "code.txt"), 4 * mb)),
        ("CJK", "".join(cjk_lines).encode()),
        ("mixed languages", head(multilingual, 4 * mb)),
    ]
    print("| text | bytes | o200k_base tokens | heuristic (bytes/4) | error | origin (chars/4) | error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, data in samples:
        exact = count(args.bin, "o200k_base", data)
        heuristic = count(args.bin, "heuristic", data)
        chars = round(len(data.decode("utf-8", errors="replace")) / 4)
        print(
            f"| {name} | {len(data):,} | {exact:,} | {heuristic:,} | {100 * (heuristic - exact) / exact:+.1f}% "
            f"| {chars:,} | {100 * (chars - exact) / exact:+.1f}% |"
        )


if __name__ == "__main__":
    sys.exit(main())
