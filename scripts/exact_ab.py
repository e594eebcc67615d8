#!/usr/bin/env python3
"""Exact counting, two or more binaries in interleaved runs on one core.

On a shared machine the load moves within minutes, so hyperfine's runs of
one command after the other can favour whichever ran in a quieter minute.
This runs the binaries in turn (A, B, A, B, ...), each pinned to core 0 as
`BIN -t ENC -s none -f raw < FILE > /dev/null`, and reports each one's CPU
time (user + sys, from wait4) as the minimum and the median, and the first
binary's median over each one's: the ratio to compare.

Usage: scripts/exact_ab.py ENCODING FILE RUNS BIN...
  e.g. scripts/exact_ab.py o200k_base bench/corpus/prose.txt 7 \\
           /path/to/old/tokmeter target/release/tokmeter
"""
import os
import statistics
import sys


def run(binary, encoding, path):
    """CPU seconds of one run of `binary` on `path`, on core 0."""
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(os.open(path, os.O_RDONLY), 0)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.sched_setaffinity(0, {0})
            os.execv(binary, [binary, "-t", encoding, "-s", "none", "-f", "raw"])
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"exact_ab: {binary} failed on {path} (status {status})")
    return usage.ru_utime + usage.ru_stime


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    encoding, path, runs, binaries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    times = {binary: [] for binary in binaries}
    for _ in range(runs):
        for binary in binaries:
            times[binary].append(run(binary, encoding, path))
    first = statistics.median(times[binaries[0]])
    for binary in binaries:
        median = statistics.median(times[binary])
        print(f"{binary}: min {min(times[binary]):.3f} s, median {median:.3f} s, "
              f"first/this {first / median:.2f}x")


if __name__ == "__main__":
    main()
