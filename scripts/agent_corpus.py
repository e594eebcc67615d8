#!/usr/bin/env python3
"""agent_corpus.py — a synthetic Claude Code log tree for benchmarks, with its truth.

    python3 scripts/agent_corpus.py OUT [SIZE_MB] [--seed N]

writes, deterministically for a given seed and size (default 200 MB, seed 1):

    OUT/projects/<cwd with / and . as ->/<session-uuid>.jsonl
    OUT/projects/<p>/<session-uuid>/subagents/agent-<id>.jsonl   (sidechains)
    OUT/expected.json                                            (the truth)

The lines follow the Claude Code 2.x shape of tests/fixtures/agents/claude/
(envelope field order parentUuid, isSidechain, [agentId], type, message,
requestId, uuid, timestamp, userType, entrypoint, cwd, sessionId, version,
gitBranch, slug; compact JSON, one object a line) and
the formats document the project collected (agent-logs.md; its rules are
restated in tests/fixtures/agents/README.md):

  * about 60 days of sessions (2026-10-02 .. 2026-11-30 UTC) over many
    projects; models claude-opus-4-5-20251101, claude-sonnet-4-5-20250929,
    claude-haiku-4-5-20251001 (sub-agents mostly Haiku);
  * each API response split over 2-4 lines (one per content block) with the
    same message.id and requestId: the early lines carry output_tokens 1..8
    and stop_reason null, the last one the final usage with
    cache_creation {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens},
    server_tool_use, iterations and speed (about 1 in 20 responses is one
    final line only, as short replies are in real logs);
  * prompts, tool_result user lines with several KB of tool output (twice:
    in message.content and in toolUseResult, as Claude Code writes it),
    file-history-snapshot, summary, system compact_boundary lines, isMeta
    lines, `<synthetic>` API-error / "No response requested." lines;
  * resumed sessions that start with copies of an earlier session's lines
    (same uuid, timestamp, message.id, requestId; only sessionId changed);
  * sub-agent files, some starting with a sidechain replay of the parent's
    Task response under a new requestId.

Truth (expected.json), computed from the lines as written, by the rules of
tests/fixtures/agents/README.md: one response per (message.id, requestId),
the line with the largest token total billed; a sidechain line whose
message.id is on a non-sidechain line under another requestId is a replay
and not billed; <synthetic> lines carry nothing. Prices: pricing.toml
(litellm 1.110.2), USD per 1M tokens; no request is above 200k prompt
tokens, so no long-context rule applies. Standard library only.
"""
import argparse
import json
import os
import random
import shutil
import sys
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from fractions import Fraction

OPUS = "claude-opus-4-5-20251101"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
# USD per 1M tokens: input, output, cache read, cache write 5m, cache write 1h
PRICES = {
    OPUS: ("claude-opus-4-5", 5, 25, Fraction(1, 2), Fraction(625, 100), 10),
    SONNET: ("claude-sonnet-4-5", 3, 15, Fraction(3, 10), Fraction(375, 100), 6),
    HAIKU: ("claude-haiku-4-5", 1, 5, Fraction(1, 10), Fraction(125, 100), 2),
}
CLASSES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
START = datetime(2026, 10, 2, tzinfo=timezone.utc)
DAYS = 60
VERSIONS = ["2.0.31", "2.0.37", "2.0.42", "2.0.55", "2.0.60", "2.0.64", "2.0.70"]
CONTEXT_CAP = 170_000  # compaction before the 200k long-context line

WORDS = (
    "fn let mut self impl struct enum match Some None Ok Err return use crate pub "
    "async await String Vec HashMap BTreeMap iter map filter collect unwrap expect "
    "tokens usage cost model price ledger report decode stream line buffer reader "
    "writer parse json total input output cache read write day session project "
    "config error result option test assert_eq clone into from as_str len push "
    "insert get key value count sum max min sort dedupe request message id"
).split()
NAMES = (
    "api web cli core infra docs billing search auth sdk mobile data etl ml "
    "dashboard gateway worker scheduler notebook tools site ops bot kernel"
).split()
ADJ = "tidy brisk quiet amber silver gentle rapid bold calm eager fuzzy keen lucky merry noble".split()
NOUN = "heron otter finch badger lynx crane maple cedar river comet ember harbor meadow falcon".split()
TOOLS = ["Read", "Bash", "Grep", "Glob", "Edit", "Write"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Gen:
    def __init__(self, out, target_bytes, seed):
        self.out = out
        self.target = target_bytes
        self.rng = random.Random(seed)
        self.written = 0
        self.files = 0
        self.lines = 0
        self.kinds = defaultdict(int)
        # every assistant line with usage: (mid, rid, sidechain, model, day, usage tuple)
        self.entries = []
        # sessions that may be resumed: project -> list of (path, session id, last time)
        self.done_sessions = defaultdict(list)
        r = self.rng
        self.text_pool = []
        for _ in range(3000):
            n = r.randint(2, 14)
            indent = " " * (4 * r.randint(0, 3))
            self.text_pool.append(indent + " ".join(r.choice(WORDS) for _ in range(n)) + r.choice([";", "", " {", "}", ","]))
        self.projects = []
        for i in range(40):
            name = f"{r.choice(NAMES)}-{r.choice(NAMES)}" if r.random() < 0.5 else r.choice(NAMES)
            base = r.choice(["/home/user/code", "/home/user/work", "/home/user/src/github.com/acme", "/home/user/.config"])
            cwd = f"{base}/{name}{i}"
            pdir = cwd.replace("/", "-").replace(".", "-")
            self.projects.append((cwd, pdir, r.random() ** 2))  # weight: a few busy projects

    # ---- ids ---------------------------------------------------------------
    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b58(self, n):
        a = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        return "".join(self.rng.choice(a) for _ in range(n))

    def msg_id(self):
        return "msg_011C" + self.b58(20)

    def req_id(self):
        return "req_011C" + self.b58(20)

    def tool_id(self):
        return "toolu_01" + self.b58(22)

    # ---- text --------------------------------------------------------------
    def sentence(self, lo=4, hi=18):
        r = self.rng
        return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi))).capitalize() + "."

    def tool_output(self):
        r = self.rng
        size = min(60_000, int(r.lognormvariate(8.2, 0.8)))  # median ~3.6 KB
        parts, n, i = [], 0, r.randint(1, 400)
        while n < size:
            s = f"{i:6d}\t{r.choice(self.text_pool)}"
            parts.append(s)
            n += len(s) + 1
            i += 1
        return "\n".join(parts)

    # ---- writing -----------------------------------------------------------
    def emit(self, f, obj, kind):
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
        f.write(s)
        self.written += len(s.encode())
        self.lines += 1
        self.kinds[kind] += 1

    def env(self, s, parent, typ, uid, t, extra_before_uuid=()):
        """An envelope in Claude Code 2.x order; `message` etc. go in between."""
        d = {"parentUuid": parent, "isSidechain": s["sidechain"]}
        if s.get("agent"):
            d["agentId"] = s["agent"]
        d["type"] = typ
        for k, v in extra_before_uuid:
            d[k] = v
        d["uuid"] = uid
        d["timestamp"] = iso(t)
        d.update(userType="external", entrypoint="cli", cwd=s["cwd"], sessionId=s["sid"],
                 version=s["version"], gitBranch=s["branch"], slug=s["slug"])
        return d

    def user_line(self, f, s, content, kind, tool_stdout=None, meta=False):
        uid = self.uid()
        extra = [("message", {"role": "user", "content": content})]
        if tool_stdout is not None:
            extra.append(("toolUseResult", {"stdout": tool_stdout, "stderr": "", "interrupted": False, "isImage": False}))
        d = self.env(s, s["parent"], "user", uid, s["t"], extra)
        if meta:
            d = {k: d[k] for k in ("parentUuid", "isSidechain")} | {"type": "user", "isMeta": True} | {k: v for k, v in d.items() if k not in ("parentUuid", "isSidechain", "type")}
        self.emit(f, d, kind)
        s["parent"] = uid

    def usage(self, inp, cw5, cw1, cr, out, final):
        u = {"input_tokens": inp, "cache_creation_input_tokens": cw5 + cw1, "cache_read_input_tokens": cr,
             "cache_creation": {"ephemeral_5m_input_tokens": cw5, "ephemeral_1h_input_tokens": cw1},
             "output_tokens": out}
        if final:
            u["server_tool_use"] = {"web_search_requests": 0, "web_fetch_requests": 0}
        u["service_tier"] = "standard"
        u["inference_geo"] = "not_available"
        if final:
            u["iterations"] = []
            u["speed"] = "standard"
        return u

    def record(self, mid, rid, sidechain, model, t, u):
        cc = u["cache_creation"]
        self.entries.append((mid, rid, sidechain, model, iso(t)[:10],
                             (u["input_tokens"], u["output_tokens"], u["cache_read_input_tokens"],
                              cc["ephemeral_5m_input_tokens"], cc["ephemeral_1h_input_tokens"])))

    def response(self, f, s, blocks, stop, added_tokens):
        """One API response: one line per block. Returns (last line dict, tool ids)."""
        r = self.rng
        model = s["model"]
        ctx = s["ctx"]
        new = added_tokens + r.randint(20, 400)
        if ctx + new > CONTEXT_CAP:
            self.compact(f, s)
            ctx = s["ctx"]
        if ctx == 0:  # first request: system prompt + tools written to the cache
            new += r.randint(9_000, 22_000)
        cr = ctx
        if s["ttl1h"] == "all":
            cw5, cw1 = 0, new
        elif s["ttl1h"] == "split":
            cw1 = r.randint(0, new)
            cw5 = new - cw1
        else:
            cw5, cw1 = new, 0
        if r.random() < 0.04:  # a cache miss: everything written again
            cr, cw5, cw1 = 0, cw5 + ctx, cw1
        inp = r.randint(1, 24)
        out_final = r.randint(40, 2400)
        s["ctx"] = ctx + new + out_final
        mid, rid = self.msg_id(), self.req_id()
        tools = []
        last = None
        for i, b in enumerate(blocks):
            final = i == len(blocks) - 1
            if b == "thinking":
                c = {"type": "thinking", "thinking": " ".join(self.sentence() for _ in range(r.randint(1, 6))),
                     "signature": "Ep" + self.b58(40)}
            elif b == "text":
                c = {"type": "text", "text": " ".join(self.sentence() for _ in range(r.randint(1, 8)))}
            else:
                tid = self.tool_id()
                tools.append((tid, b))
                if b == "Task":
                    inputs = {"description": self.sentence(2, 4), "prompt": self.sentence(8, 30), "subagent_type": "Explore"}
                elif b == "Bash":
                    inputs = {"command": " ".join(r.choice(WORDS) for _ in range(r.randint(2, 8))), "description": self.sentence(2, 6)}
                elif b in ("Edit", "Write"):
                    inputs = {"file_path": f"{s['cwd']}/src/{r.choice(WORDS)}.rs", "old_string": r.choice(self.text_pool), "new_string": r.choice(self.text_pool)}
                else:
                    inputs = {"file_path": f"{s['cwd']}/src/{r.choice(WORDS)}/{r.choice(WORDS)}.rs"}
                c = {"type": "tool_use", "id": tid, "name": b, "input": inputs}
            u = self.usage(inp, cw5, cw1, cr, out_final if final else r.randint(1, 8), final)
            msg = {"model": model, "id": mid, "type": "message", "role": "assistant", "content": [c],
                   "stop_reason": stop if final else None, "stop_sequence": None, "usage": u}
            uid = self.uid()
            s["t"] += timedelta(milliseconds=r.randint(300, 6000))
            d = self.env(s, s["parent"], "assistant", uid, s["t"], [("message", msg), ("requestId", rid)])
            self.emit(f, d, "assistant")
            self.record(mid, rid, s["sidechain"], model, s["t"], u)
            s["parent"] = uid
            last = d
        s["responses"].append(last)
        return last, tools

    def synthetic(self, f, s, api_error):
        uid = self.uid()
        zero = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}, "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}}
        text = ('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
                if api_error else "No response requested.")
        msg = {"id": self.uid(), "container": None, "model": "<synthetic>", "role": "assistant",
               "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message", "usage": zero,
               "content": [{"type": "text", "text": text}]}
        extra = [("message", msg)] + ([("isApiErrorMessage", True)] if api_error else [])
        s["t"] += timedelta(milliseconds=self.rng.randint(200, 20000))
        self.emit(f, self.env(s, s["parent"], "assistant", uid, s["t"], extra), "synthetic")
        s["parent"] = uid

    def compact(self, f, s):
        uid = self.uid()
        s["t"] += timedelta(seconds=self.rng.randint(2, 30))
        d = {"parentUuid": s["parent"], "isSidechain": s["sidechain"], "type": "system", "subtype": "compact_boundary",
             "content": "Conversation compacted", "isMeta": False, "level": "info",
             "compactMetadata": {"trigger": "auto", "preTokens": s["ctx"]}, "uuid": uid, "timestamp": iso(s["t"]),
             "userType": "external", "entrypoint": "cli", "cwd": s["cwd"], "sessionId": s["sid"],
             "version": s["version"], "gitBranch": s["branch"], "slug": s["slug"]}
        self.emit(f, d, "system")
        s["parent"] = uid
        s["ctx"] = 0

    def snapshot(self, f, s):
        mid = self.uid()
        self.emit(f, {"type": "file-history-snapshot", "messageId": mid,
                      "snapshot": {"messageId": mid, "trackedFileBackups": {}, "timestamp": iso(s["t"])},
                      "isSnapshotUpdate": False}, "file-history-snapshot")

    # ---- sessions ----------------------------------------------------------
    def new_state(self, cwd, sid, t, model, sidechain=False, agent=None, parent_state=None):
        r = self.rng
        st = {"cwd": cwd, "sid": sid, "t": t, "model": model, "sidechain": sidechain, "agent": agent,
              "parent": None, "ctx": 0, "responses": [],
              "ttl1h": r.choices(["none", "all", "split"], [0.55, 0.25, 0.2])[0],
              "version": r.choice(VERSIONS), "branch": r.choice(["main", "main", "dev", f"feat/{r.choice(WORDS)}"]),
              "slug": f"{r.choice(ADJ)}-{r.choice(WORDS)}-{r.choice(NOUN)}"}
        if parent_state:
            for k in ("version", "branch", "slug", "ttl1h"):
                st[k] = parent_state[k]
        return st

    def subagent(self, s, pdir, task_resp):
        """A sub-agent file next to the session; returns its summary text."""
        r = self.rng
        agent = self.b58(7).lower()
        d = os.path.join(self.out, "projects", pdir, s["sid"], "subagents")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"agent-{agent}.jsonl")
        a = self.new_state(s["cwd"], s["sid"], s["t"] + timedelta(milliseconds=100),
                           HAIKU if r.random() < 0.8 else SONNET, True, agent, s)
        with open(path, "w", encoding="utf-8") as f:
            self.files += 1
            self.user_line(f, a, task_resp["message"]["content"][0]["input"]["prompt"], "user-prompt")
            if r.random() < 0.25:  # replay of the parent's Task response under a new requestId
                rep = json.loads(json.dumps(task_resp))
                rep = {"parentUuid": a["parent"], "isSidechain": True, "agentId": agent} | {
                    k: v for k, v in rep.items() if k not in ("parentUuid", "isSidechain", "agentId")}
                rep["requestId"] = self.req_id()
                rep["uuid"] = self.uid()
                a["t"] += timedelta(milliseconds=50)
                rep["timestamp"] = iso(a["t"])
                self.emit(f, rep, "replay")
                u = rep["message"]["usage"]
                self.record(rep["message"]["id"], rep["requestId"], True, rep["message"]["model"], a["t"], u)
                a["parent"] = rep["uuid"]
            for _ in range(r.randint(1, 6)):
                blocks = r.choice([["text", "Grep"], ["thinking", "Read"], ["thinking", "Glob"], ["text", "Read", "Read"]])
                _, tools = self.response(f, a, blocks, "tool_use", r.randint(50, 600))
                for tid, _name in tools:
                    out = self.tool_output()
                    a["t"] += timedelta(milliseconds=r.randint(50, 3000))
                    self.user_line(f, a, [{"tool_use_id": tid, "type": "tool_result", "content": out}], "tool-result", out)
                    a["tool_added"] = len(out) // 4
            last, _ = self.response(f, a, ["thinking", "text"], "end_turn", a.get("tool_added", 300))
        s["t"] = max(s["t"], a["t"]) + timedelta(milliseconds=200)
        return last["message"]["content"][0]["text"]

    def session(self):
        r = self.rng
        cwd, pdir, _ = r.choices(self.projects, [p[2] for p in self.projects])[0]
        day = r.randrange(DAYS)
        t = START + timedelta(days=day, seconds=r.randint(6 * 3600, 23 * 3600))
        model = r.choices([SONNET, OPUS, HAIKU], [0.5, 0.35, 0.15])[0]
        sid = self.uid()
        s = self.new_state(cwd, sid, t, model)
        d = os.path.join(self.out, "projects", pdir)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{sid}.jsonl")
        earlier = self.done_sessions[pdir]
        with open(path, "w", encoding="utf-8") as f:
            self.files += 1
            if earlier and r.random() < 0.12:  # resumed: copies of an earlier session's lines first
                epath, esid, et, estate = r.choice(earlier)
                self.emit(f, {"type": "summary", "summary": self.sentence(3, 7), "leafUuid": self.uid()}, "summary")
                with open(epath, encoding="utf-8") as e:
                    elines = e.readlines()
                keep = elines if r.random() < 0.6 else elines[: r.randint(1, len(elines))]
                for line in keep:
                    o = json.loads(line)
                    if "sessionId" in o:
                        o["sessionId"] = sid
                    if o.get("uuid"):
                        s["parent"] = o["uuid"]
                    kind = "copy-" + o.get("type", "?")
                    self.emit(f, o, kind)
                    m = o.get("message")
                    if o.get("type") == "assistant" and m.get("model") != "<synthetic>":
                        self.record(m["id"], o["requestId"], o["isSidechain"], m["model"],
                                    datetime.fromisoformat(o["timestamp"].replace("Z", "+00:00")), m["usage"])
                for k in ("version", "branch", "slug", "ttl1h", "model"):
                    s[k] = estate[k]
                s["ctx"] = estate["ctx"]
                s["t"] = max(t, et + timedelta(minutes=r.randint(5, 3000)))
            elif r.random() < 0.2:
                self.emit(f, {"type": "summary", "summary": self.sentence(3, 7), "leafUuid": self.uid()}, "summary")
            for turn in range(min(40, 1 + int(r.lognormvariate(1.5, 0.8)))):
                self.snapshot(f, s)
                s["t"] += timedelta(seconds=r.randint(5, 900))
                if r.random() < 0.05:  # /model switch: isMeta caveat + command echo
                    self.user_line(f, s, "Caveat: The messages below were generated by the user while running local commands.", "user-meta", meta=True)
                    new = r.choice([SONNET, OPUS, HAIKU])
                    self.user_line(f, s, f"<command-name>/model</command-name>\n<command-args>{new.split('-')[1]}</command-args>", "user-prompt")
                    s["model"] = new
                self.user_line(f, s, " ".join(self.sentence() for _ in range(r.randint(1, 4))), "user-prompt")
                if r.random() < 0.03:
                    self.synthetic(f, s, True)
                added = r.randint(20, 800)
                for step in range(r.choice([0, 1, 1, 2, 2, 3, 4, 6])):
                    blocks = r.choice([["thinking", "Read"], ["text", "Bash"], ["thinking", "text", "Edit"],
                                       ["thinking", "Grep", "Read"], ["text", "Read", "Read", "Glob"],
                                       ["thinking", "text", "Task"]])
                    if r.random() < 0.04:  # a one-line response (final only)
                        blocks = ["Bash"]
                    if "Task" in blocks and r.random() < 0.5:
                        blocks = blocks[:-1] + ["Read"]
                    last, tools = self.response(f, s, blocks, "tool_use", added)
                    added = 0
                    for tid, name in tools:
                        out = self.subagent(s, pdir, last) if name == "Task" else self.tool_output()
                        s["t"] += timedelta(milliseconds=r.randint(50, 8000))
                        self.user_line(f, s, [{"tool_use_id": tid, "type": "tool_result", "content": out}], "tool-result", out)
                        added += len(out) // 4
                if r.random() < 0.03:
                    self.user_line(f, s, "[Request interrupted by user]", "user-prompt")
                    self.synthetic(f, s, False)
                    continue
                self.response(f, s, ["text"] if r.random() < 0.05 else r.choice([["thinking", "text"], ["thinking", "text", "text"]]),
                              "end_turn", added)
                if self.written >= self.target:
                    break
        earlier.append((path, sid, s["t"], {k: s[k] for k in ("version", "branch", "slug", "ttl1h", "model", "ctx")}))
        if len(earlier) > 8:
            earlier.pop(0)

    def run(self):
        while self.written < self.target:
            self.session()

    # ---- truth -------------------------------------------------------------
    def truth(self):
        main_rids = defaultdict(set)
        for mid, rid, side, *_ in self.entries:
            if not side:
                main_rids[mid].add(rid)
        best = {}
        replays = 0
        for e in self.entries:
            mid, rid, side, model, day, u = e
            if side and main_rids.get(mid) and rid not in main_rids[mid]:
                replays += 1
                continue
            k = (mid, rid)
            if k not in best or sum(u) > sum(best[k][5]):
                best[k] = e
        tot = dict.fromkeys(CLASSES, 0)
        cost = Fraction(0)
        by_model = defaultdict(lambda: dict.fromkeys(CLASSES, 0) | {"responses": 0, "cost": Fraction(0)})
        by_day = defaultdict(lambda: dict.fromkeys(CLASSES, 0) | {"responses": 0, "cost": Fraction(0)})
        for mid, rid, side, model, day, u in best.values():
            p = PRICES[model]
            c = sum(Fraction(n) * Fraction(pr) for n, pr in zip(u, p[1:])) / 1_000_000
            cost += c
            for row in (by_model[p[0]], by_day[day]):
                row["responses"] += 1
                row["cost"] += c
                for k, n in zip(CLASSES, u):
                    row[k] += n
            for k, n in zip(CLASSES, u):
                tot[k] += n

        def fin(row):
            return {k: (round(float(v), 9) if k == "cost" else v) for k, v in row.items()}

        return {
            "generator": "scripts/agent_corpus.py",
            "seed": self.seed, "target_mb": self.target // 1_000_000,
            "bytes": self.written, "files": self.files, "lines": self.lines,
            "lines_by_kind": dict(sorted(self.kinds.items())),
            "assistant_usage_lines": len(self.entries),
            "duplicate_lines": len(self.entries) - replays - len(best),
            "replay_lines": replays,
            "responses": len(best),
            "tokens": tot,
            "total_tokens": sum(tot.values()),
            "cost_usd": round(float(cost), 9),
            "cost_usd_exact": str(cost.numerator / cost.denominator) if cost.denominator == 1 else f"{cost.numerator}/{cost.denominator}",
            "prices_usd_per_mtok": {p[0]: {"alias": m, **dict(zip(CLASSES, map(float, p[1:])))} for m, p in PRICES.items()},
            "rules": "one response per (message.id, requestId), largest total; sidechain replays (message.id on a "
                     "non-sidechain line under another requestId) not billed; <synthetic> lines carry nothing; "
                     "days are UTC days of the billed line's timestamp",
            "by_model": {k: fin(v) for k, v in sorted(by_model.items())},
            "by_day_utc": {k: fin(v) for k, v in sorted(by_day.items())},
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("size_mb", nargs="?", type=float, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    proj = os.path.join(a.out, "projects")
    if os.path.exists(proj):
        shutil.rmtree(proj)
    os.makedirs(proj)
    g = Gen(a.out, int(a.size_mb * 1_000_000), a.seed)
    g.seed = a.seed
    g.run()
    t = g.truth()
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump(t, f, indent=1)
        f.write("\n")
    print(f"agent_corpus: {t['files']} files, {t['lines']} lines, {t['bytes'] / 1e6:.1f} MB, "
          f"{t['responses']} responses, ${t['cost_usd']:.4f} -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
