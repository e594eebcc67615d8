#!/usr/bin/env python3
"""One core against all cores, two or more binaries in interleaved runs.

On a shared machine the second core's share of the host moves within
minutes, so a ratio of one-core and all-core runs taken minutes apart says
as much about the host as about the binary. This runs each binary on core 0
(`taskset`-like affinity) and then on all cores, in turn for every binary,
round after round, as `BIN -t ENC -s none -f raw [EXTRA] < FILE > /dev/null`,
and reports each one's median wall times and its one-core/all-core ratio.

Usage: scripts/cores_ab.py ENCODING FILE RUNS BIN... [-- EXTRA...]
  e.g. scripts/cores_ab.py o200k_base bench/corpus/code.txt 11 \\
           /path/to/old/tokmeter target/release/tokmeter -- -z
"""
import os
import statistics
import subprocess
import sys
import time


def wall(binary, encoding, path, extra, core):
    """Wall seconds of one run, on `core` only or (None) on all cores."""
    pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    with open(path, "rb") as text:
        start = time.perf_counter()
        subprocess.run(
            [binary, "-t", encoding, "-s", "none", "-f", "raw", *extra],
            stdin=text, stdout=subprocess.DEVNULL, preexec_fn=pin, check=True,
        )
        return time.perf_counter() - start


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[: args.index("--")] if "--" in args else args
    if len(args) < 4:
        sys.exit(__doc__)
    encoding, path, runs, binaries = args[0], args[1], int(args[2]), args[3:]
    times = {binary: ([], []) for binary in binaries}
    for _ in range(runs):
        for binary in binaries:
            times[binary][0].append(wall(binary, encoding, path, extra, 0))
            times[binary][1].append(wall(binary, encoding, path, extra, None))
    for binary in binaries:
        one, all_cores = (statistics.median(t) for t in times[binary])
        print(f"{binary}: one core {one:.3f} s, all cores {all_cores:.3f} s, {one / all_cores:.2f}x")


if __name__ == "__main__":
    main()
