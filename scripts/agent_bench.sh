#!/usr/bin/env bash
# agent_bench.sh — tokmeter against ccusage on one synthetic Claude Code tree:
# wall time and peak RSS of each, and both tools' totals against the truth.
#
#   1. builds the corpus with scripts/agent_corpus.py if DIR/expected.json is
#      missing (SIZE_MB, default 200; SEED, default 1);
#   2. runs, RUNS times each (default 3), alternating, after one read of the
#      tree to warm the page cache:
#        TZ=UTC CLAUDE_CONFIG_DIR=DIR ccusage daily --offline --json
#        tokmeter --input claude-code --by day --utc -f json -s none DIR/projects
#        the same tokmeter command with -j 1 (one core)
#        $BEFORE --input transcript -m claude-sonnet-4-5 -s json FILES
#          (only if BEFORE names a binary: a tokmeter from before agent logs,
#          which prices every usage line, duplicates included, at one model;
#          its stderr summary gives the "before" billing error)
#      each under /usr/bin/time -f '%e %M' (GNU time; a Python
#      resource.getrusage wrapper if it is missing). ccusage runs with an
#      empty HOME / XDG dirs / CODEX_HOME so that it sees only DIR;
#   3. prints a Markdown table of medians and the tokmeter/ccusage ratios,
#      then checks each tool's total (input, output, cache read, cache
#      writes, cost) and its per-day rows against DIR/expected.json and
#      prints every difference. ccusage reports 5m + 1h writes as one
#      cacheCreationTokens figure, so for it only their sum is checked.
#      tokmeter's rows are JSON lines with day, responses, input_tokens,
#      output_tokens, cache_read_tokens, cache_write_tokens (5-minute),
#      cache_write_1h_tokens, total_tokens, cost (decimal string), ...; the
#      total row is the one with "total": true (day null). Each class, the
#      5m/1h split, responses and cost are checked, per day and in total.
#
# tokmeter is optional: if the binary is missing, fails, or prints nothing
# that parses, that is said and ccusage's figures are still reported.
#
# ccusage: $CCUSAGE if set; else /tmp/ccusage (npm prefix; installed there as
# ccusage@$CCUSAGE_VERSION, default 20.0.24, if missing). From 20.0.24 the npm
# package is a node launcher for a native binary
# (@ccusage/ccusage-linux-x64); the native binary is run directly when found,
# so the launcher's node process is not in the time or memory (CCUSAGE_VIA_NODE=1
# runs the launcher instead).
#
# Needs: python3, node/npm (only to install ccusage). Exit 1 if a checked
# total differs from expected.json.
# Usage: scripts/agent_bench.sh [DIR]   (default $CORPUS or /tmp/agent-corpus)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${1:-${CORPUS:-/tmp/agent-corpus}}"
size="${SIZE_MB:-200}"
seed="${SEED:-1}"
runs="${RUNS:-3}"
bin="${TOKMETER:-$root/target/release/tokmeter}"
prefix="${CCUSAGE_PREFIX:-/tmp/ccusage}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -f "$corpus/expected.json" ]]; then
    echo "building corpus: $corpus (${size} MB, seed $seed)" >&2
    python3 "$root/scripts/agent_corpus.py" "$corpus" "$size" --seed "$seed"
fi

# ---- ccusage ----------------------------------------------------------------
if [[ -n "${CCUSAGE:-}" ]]; then
    ccusage=("$CCUSAGE")
else
    if [[ ! -x "$prefix/node_modules/.bin/ccusage" ]]; then
        echo "installing ccusage@${CCUSAGE_VERSION:-20.0.24} into $prefix" >&2
        npm install --silent --prefix "$prefix" "ccusage@${CCUSAGE_VERSION:-20.0.24}" >&2
    fi
    native="$(ls "$prefix"/node_modules/@ccusage/ccusage-linux-*/bin/ccusage 2>/dev/null | head -n 1 || true)"
    if [[ -n "$native" && -z "${CCUSAGE_VIA_NODE:-}" ]]; then
        ccusage=("$native")
    else
        ccusage=(node "$prefix/node_modules/ccusage/src/cli.js")
    fi
fi
ccusage_version="$("${ccusage[@]}" --version 2>&1 | head -n 1)"
mkdir -p "$work/home/.config" "$work/home/.local/share" "$work/home/.codex"
cc_env=(env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
        CODEX_HOME="$work/home/.codex" CLAUDE_CONFIG_DIR="$corpus" TZ=UTC NO_COLOR=1)
cc_cmd=("${cc_env[@]}" "${ccusage[@]}" daily --offline --json)
tm_cmd=("$bin" --input claude-code --by day --utc -f json -s none "$corpus/projects")
tm1_cmd=("$bin" --input claude-code --by day --utc -f json -s none -j 1 "$corpus/projects")
before="${BEFORE:-}"
before_state=""
if [[ -n "$before" ]]; then
    if [[ -x "$before" ]]; then
        before_state=ok
        before_list="$work/before.files"
        find "$corpus/projects" -name '*.jsonl' -print0 | sort -z >"$before_list"
    else
        before_state="BEFORE=$before is not an executable"
    fi
fi

# ---- measuring ----------------------------------------------------------------
# measure NAME I CMD...: stdout to $work/NAME.I.out, stderr to .err,
# "wall_s peak_kb" to .time, the exit status to .rc.
if /usr/bin/time --version >/dev/null 2>&1; then
    measure() {
        local name=$1 i=$2; shift 2
        local rc=0
        /usr/bin/time -f '%e %M' -o "$work/$name.$i.time" "$@" >"$work/$name.$i.out" 2>"$work/$name.$i.err" || rc=$?
        echo "$rc" >"$work/$name.$i.rc"
    }
    timer="GNU time (%e %M)"
else
    measure() {
        local name=$1 i=$2; shift 2
        local rc=0
        python3 - "$work/$name.$i.time" "$@" >"$work/$name.$i.out" 2>"$work/$name.$i.err" <<'PY' || rc=$?
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - t
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc)
PY
        echo "$rc" >"$work/$name.$i.rc"
    }
    timer="python resource.getrusage (RUSAGE_CHILDREN)"
fi

tm_state=ok
if [[ ! -x "$bin" ]]; then
    tm_state="not built ($bin missing)"
fi

find "$corpus/projects" -name '*.jsonl' -print0 | xargs -0 cat >/dev/null  # warm the page cache
for i in $(seq 1 "$runs"); do
    echo "run $i/$runs: ccusage" >&2
    measure ccusage "$i" "${cc_cmd[@]}"
    if [[ "$tm_state" == ok ]]; then
        echo "run $i/$runs: tokmeter" >&2
        measure tokmeter "$i" "${tm_cmd[@]}"
        if [[ "$(cat "$work/tokmeter.$i.rc")" != 0 ]]; then
            tm_state="failed (exit $(cat "$work/tokmeter.$i.rc")): $(tail -n 3 "$work/tokmeter.$i.err" | tr '\n' ' ')"
        fi
    fi
    if [[ "$tm_state" == ok ]]; then
        echo "run $i/$runs: tokmeter -j 1" >&2
        measure tokmeter_j1 "$i" "${tm1_cmd[@]}"
    fi
    if [[ "$before_state" == ok ]]; then
        echo "run $i/$runs: before ($before)" >&2
        measure before "$i" xargs -0 -x -s 2000000 -a "$before_list" \
            "$before" --input transcript -m claude-sonnet-4-5 -s json
    fi
done

python3 - "$work" "$runs" "$corpus" "$tm_state" "$ccusage_version" "$timer" \
    "${ccusage[*]}" "${tm_cmd[*]}" "${tm1_cmd[*]}" "$before_state" "$before" <<'PY'
import json, os, re, statistics, sys
from fractions import Fraction

(work, runs, corpus, tm_state, cc_version, timer, cc_bin, tm_cmd, tm1_cmd,
 before_state, before_bin) = sys.argv[1:12]
runs = int(runs)
exp = json.load(open(os.path.join(corpus, "expected.json")))
CLASSES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COST_TOL = 1e-5  # USD: room for a tool that rounds its printed cost to 6 decimals


def timings(name):
    rows = []
    for i in range(1, runs + 1):
        p = os.path.join(work, f"{name}.{i}.time")
        if not os.path.exists(p):
            continue
        rc = open(os.path.join(work, f"{name}.{i}.rc")).read().strip()
        if rc != "0":
            continue
        last = [ln for ln in open(p).read().splitlines() if ln.strip()][-1].split()
        rows.append((float(last[0]), int(last[1]) / 1024))
    return rows


# ---- ccusage: {"daily": [{period|date, inputTokens, ...}], "totals": {...}} ----------
def cc_row(r):
    return {"input": r.get("inputTokens"), "output": r.get("outputTokens"),
            "cache_read": r.get("cacheReadTokens"), "cache_write": r.get("cacheCreationTokens"),
            "cost": r.get("totalCost", r.get("cost"))}


def parse_ccusage(text):
    d = json.loads(text)
    days = {}
    for r in d.get("daily", []):
        days[r.get("period") or r.get("date")] = cc_row(r)
    return cc_row(d["totals"]), days


# ---- tokmeter: one JSON object a line, each day then the total row ("total": true) ---
TM_FIELDS = {
    "input": "input_tokens", "output": "output_tokens", "cache_read": "cache_read_tokens",
    "cache_write_5m": "cache_write_tokens", "cache_write_1h": "cache_write_1h_tokens",
    "responses": "responses", "total_tokens": "total_tokens", "cost": "cost",
}


def tm_row(o):
    row = {}
    for cls, name in TM_FIELDS.items():
        v = o[name]  # a missing field is a parse failure, reported below
        row[cls] = float(v) if cls == "cost" else int(v)
    row["cache_write"] = row["cache_write_5m"] + row["cache_write_1h"]
    row["cost_text"] = str(o["cost"])
    return row


def parse_tokmeter(text):
    days, totals = {}, []
    for ln in text.splitlines():
        if not ln.strip():
            continue
        o = json.loads(ln)
        if o.get("total") is True:
            totals.append(tm_row(o))
        else:
            if not (isinstance(o.get("day"), str) and DAY.match(o["day"])):
                raise ValueError(f"row without a day and not the total row: {ln[:200]}")
            if o["day"] in days:
                raise ValueError(f"day {o['day']} twice")
            days[o["day"]] = tm_row(o)
        if o.get("currency", "USD") != "USD":
            raise ValueError(f"currency {o.get('currency')}")
    if len(totals) != 1:
        raise ValueError(f"{len(totals)} total rows (want 1)")
    return totals[0], days, "total row"


# ---- checks ---------------------------------------------------------------------------
def expected_row(r):
    e = {k: r[k] for k in CLASSES}
    e["cache_write"] = r["cache_write_5m"] + r["cache_write_1h"]
    e["total_tokens"] = sum(r[k] for k in CLASSES)
    e["responses"] = r.get("responses")
    e["cost"] = r.get("cost", r.get("cost_usd"))
    return e


def compare(got, want, keys):
    diffs = []
    for k in keys:
        g, w = got.get(k), want[k]
        if g is None:
            diffs.append(f"{k}: missing (expected {w})")
        elif k == "cost":
            if abs(g - w) > COST_TOL:
                diffs.append(f"cost: {g:.6f} vs expected {w:.6f} (diff {g - w:+.6f})")
        elif int(round(g)) != w:
            diffs.append(f"{k}: {int(round(g))} vs expected {w} (diff {int(round(g)) - w:+d})")
    return diffs


etotal = expected_row({**exp["tokens"], "responses": exp["responses"], "cost": exp["cost_usd"]})
edays = {d: expected_row(r) for d, r in exp["by_day_utc"].items()}
CC_KEYS = ("input", "output", "cache_read", "cache_write", "cost")
TM_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "total_tokens",
           "responses", "cost")

results = {}
notes = []
bad = False
for name, parse, keys in (("ccusage", parse_ccusage, CC_KEYS), ("tokmeter", parse_tokmeter, TM_KEYS),
                          ("tokmeter_j1", parse_tokmeter, TM_KEYS)):
    t = timings(name)
    results[name] = t
    if name.startswith("tokmeter") and tm_state != "ok" and not t:
        notes.append(f"tokmeter: {tm_state}; no figures.")
        continue
    out = os.path.join(work, f"{name}.1.out")
    if not os.path.exists(out):
        notes.append(f"{name}: no run.")
        continue
    try:
        parsed = parse(open(out).read())
    except Exception as e:  # noqa: BLE001 — report, do not die
        head = open(out).read()[:300].replace("\n", " ")
        notes.append(f"{name}: output does not parse ({type(e).__name__}: {e}); starts: {head!r}")
        continue
    total, days = parsed[0], parsed[1]
    how = parsed[2] if len(parsed) > 2 else "totals"
    diffs = compare(total, etotal, keys)
    day_diffs = []
    for d in sorted(set(days) | set(edays)):
        if d not in days:
            day_diffs.append(f"{d}: missing")
        elif d not in edays:
            day_diffs.append(f"{d}: not expected")
        else:
            dd = compare(days[d], edays[d], keys)
            if dd:
                day_diffs.append(f"{d}: " + "; ".join(dd))
    shown = " ".join(f"{k}={total.get(k)}" for k in keys)
    if "cost_text" in total and "cost_usd_exact" in exp:
        # tokmeter prints an exact decimal: it must equal the exact truth, not only within COST_TOL
        if Fraction(total["cost_text"]) != Fraction(exp["cost_usd_exact"]):
            diffs.append(f"cost: {total['cost_text']} is not exactly {exp['cost_usd_exact']}")
        else:
            shown += f" (cost exactly {exp['cost_usd_exact']})"
    if diffs or day_diffs:
        bad = True
        notes.append(f"{name} ({how}) DIFFERS from expected.json: {shown}")
        notes.extend(f"  total {x}" for x in diffs)
        notes.append(f"  {len(day_diffs)} of {len(edays)} days differ" + (":" if day_diffs else ""))
        notes.extend(f"  day {x}" for x in day_diffs[:10])
    else:
        notes.append(f"{name} ({how}): totals and all {len(edays)} days match expected.json ({shown})")
    if name == "tokmeter" and tm_state != "ok":
        notes.append(f"tokmeter: a later run {tm_state}")

# every run of a tool must print the same report
for name in ("ccusage", "tokmeter", "tokmeter_j1"):
    outs = {open(os.path.join(work, f"{name}.{i}.out")).read()
            for i in range(1, runs + 1) if os.path.exists(os.path.join(work, f"{name}.{i}.out"))}
    if len(outs) > 1:
        bad = True
        notes.append(f"{name}: the {runs} runs printed {len(outs)} different reports")
if "tokmeter" in results and "tokmeter_j1" in results:
    a, b = (os.path.join(work, f"{n}.1.out") for n in ("tokmeter", "tokmeter_j1"))
    if os.path.exists(a) and os.path.exists(b) and open(a).read() != open(b).read():
        bad = True
        notes.append("tokmeter -j 1 printed a different report from the default")


def flat(o, out=None):
    out = {} if out is None else out
    for k, v in o.items():
        if isinstance(v, dict):
            flat(v, out)
        elif k not in out:
            out[k] = v
    return out


def num(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        try:
            return float(v.lstrip("$"))
        except ValueError:
            return None
    return None


# ---- before: a tokmeter from before agent logs, its -s json summary on stderr --------
def parse_before(err):
    objs = []
    for ln in err.splitlines():
        ln = ln.strip()
        if ln.startswith("{"):
            try:
                objs.append(json.loads(ln))
            except ValueError:
                pass
    if not objs:
        raise ValueError("no JSON summary on stderr: " + err[:300].replace("\n", " "))
    return objs


before_note = []
if before_state == "ok":
    results["before"] = timings("before")
    try:
        objs = parse_before(open(os.path.join(work, "before.1.err")).read())
        tot = next((o for o in reversed(objs) if "sessions" in o), objs[-1])  # the total summary
        cost, toks = float(tot["total_cost"]), int(tot["total_tokens"])
        before_note.append(
            f"before ({before_bin}, -m claude-sonnet-4-5, total of {tot.get('sessions')} files): "
            f"tokens {toks:,} vs expected {exp['total_tokens']:,} ({toks / exp['total_tokens']:.3f}×); "
            f"cost ${cost:.6f} vs expected ${exp['cost_usd']:.6f} ({cost / exp['cost_usd']:.3f}×)")
        tr = tot.get("transcript") or {}
        want = {"input_tokens": exp["tokens"]["input"], "output_tokens": exp["tokens"]["output"],
                "cache_read_tokens": exp["tokens"]["cache_read"],
                "cache_write_tokens": exp["tokens"]["cache_write_5m"] + exp["tokens"]["cache_write_1h"]}
        parts = [f"{k} {int(tr[k]):,} vs {w:,} ({int(tr[k]) / w:.3f}×)" for k, w in want.items() if k in tr]
        if parts:
            before_note.append("  by class: " + "; ".join(parts))
        keep = ("records", "records_from_usage", "records_tokenized", "bad_lines")
        before_note.append("  records: " + ", ".join(f"{k} {tr[k]:,}" for k in keep if k in tr))
    except Exception as e:  # noqa: BLE001
        before_note.append(f"before: summary does not parse ({type(e).__name__}: {e})")
elif before_state:
    before_note.append(f"before: {before_state}")


mb = exp["bytes"] / 1e6
print(f"Corpus {corpus}: {mb:.1f} MB, {exp['files']} files, {exp['lines']:,} lines, "
      f"{exp['responses']:,} responses, expected ${exp['cost_usd']:.6f}. "
      f"{runs} runs each, alternating; {timer}; medians.\n")
print(f"- {cc_version}: `{cc_bin} daily --offline --json` (TZ=UTC, CLAUDE_CONFIG_DIR={corpus})")
print(f"- tokmeter: `{tm_cmd}`")
print(f"- tokmeter -j 1: `{tm1_cmd}`")
if before_state == "ok":
    print(f"- before: `xargs -0 -x -s 2000000 -a <sorted *.jsonl list> {before_bin} --input transcript -m claude-sonnet-4-5 -s json`")
print()
print("| tool | runs ok | wall s (median) | wall s (min) | peak RSS MiB (median) | MB/s | time ÷ ccusage | memory ÷ ccusage |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
med = {}
LABEL = {"ccusage": "ccusage", "tokmeter": "tokmeter (default jobs)", "tokmeter_j1": "tokmeter -j 1",
         "before": "tokmeter before (transcript, -m sonnet)"}
for name in ("ccusage", "tokmeter", "tokmeter_j1", "before"):
    if name not in results:
        continue
    t = results.get(name) or []
    if not t:
        print(f"| {LABEL[name]} | 0 | – | – | – | – | – | – |")
        continue
    w = statistics.median(x[0] for x in t)
    m = statistics.median(x[1] for x in t)
    med[name] = (w, m)
    rt = rm = "–"
    if name != "ccusage" and "ccusage" in med:
        rt = f"{w / med['ccusage'][0]:.3f}×"
        rm = f"{m / med['ccusage'][1]:.3f}×"
    print(f"| {LABEL[name]} | {len(t)} | {w:.2f} | {min(x[0] for x in t):.2f} | {m:.1f} | "
          f"{mb / w if w else 0:.1f} | {rt} | {rm} |")
print()
if "ccusage" in med:
    for name in ("tokmeter", "tokmeter_j1"):
        if name in med:
            rt, rm = med[name][0] / med["ccusage"][0], med[name][1] / med["ccusage"][1]
            print(f"{LABEL[name]}/ccusage: time {rt:.3f}× (target ≤ 0.5×: {'met' if rt <= 0.5 else 'NOT met'}), "
                  f"peak memory {rm:.3f}× (target ≤ 0.25×: {'met' if rm <= 0.25 else 'NOT met'})")
    print()
for n in notes + before_note:
    print(n)
sys.exit(1 if bad else 0)
PY
