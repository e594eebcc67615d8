#!/usr/bin/env python3
"""Check tokmeter's built-in pricing table against litellm's price database.

How to run (Python 3.11+, standard library only), from the repository root:

    python3 scripts/pricing_from_litellm.py
    python3 scripts/pricing_from_litellm.py LITELLM_JSON [PRICING_TOML]
    python3 scripts/pricing_from_litellm.py -v     # also list name -> litellm key

LITELLM_JSON defaults to tests/fixtures/pricing/litellm_model_prices.json and
PRICING_TOML to pricing.toml, both relative to the repository root (not to the
current directory). LITELLM_JSON is litellm's
model_prices_and_context_window.json (USD per single token); pricing.toml is in
USD per 1M tokens.

What it checks:
  * the file uses only the keys tokmeter's parser accepts; input and output are
    present; every price is written as a plain decimal with at most 6 decimals;
    tokenizer is o200k_base, cl100k_base or heuristic; default_model exists;
  * no model name or alias appears twice, ignoring case;
  * every model name and every alias maps to a litellm key -- the name itself
    or with the provider's litellm prefix (openai/, anthropic/, gemini/,
    deepseek/, mistral/, xai/; a prefixed name is also tried without it;
    litellm's {"alias_of": ...} entries are followed) -- of that provider,
    and that key's input_cost_per_token, output_cost_per_token,
    cache_read_input_token_cost, cache_creation_input_token_cost and
    cache_creation_input_token_cost_above_1hr (our cache_write_1h), times
    1e6 and rounded to 6 decimals, equal ours exactly; a price we list must be
    listed there and vice versa. The rounded value times 1e-6 must equal the
    source within 1e-15 relative (so float noise such as 1.25e-06 is fine, but
    a price that needs more than 6 decimals is reported).
  * A few legacy Anthropic ids that litellm lists only under their Bedrock ids
    (anthropic.claude-...-v1:0) are checked against those: see LEGACY_KEYS.

Output: one line per problem and exit status 1, or a count per provider and a
final "OK: ..." line and exit status 0. After a litellm update, run it against
the new JSON: each mismatch names the source's value to copy into pricing.toml
(and update source, source_date and the sha256 in the header comment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO_ROOT / "tests" / "fixtures" / "pricing" / "litellm_model_prices.json"
DEFAULT_TOML = REPO_ROOT / "pricing.toml"

TOP_KEYS = {"source", "source_date", "default_model", "models"}
MODEL_KEYS = {"provider", "input", "output", "cache_read", "cache_write",
              "cache_write_1h", "tokenizer", "bytes_per_token", "chars_per_token", "aliases"}
PRICE_FIELDS = {  # ours -> litellm's (USD per token)
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
}
TOKENIZERS = {"o200k_base", "cl100k_base", "heuristic"}
PLAIN_DECIMAL = re.compile(r"\d+\.\d{1,6}")

# provider in pricing.toml -> (litellm name prefix, litellm_provider values)
PROVIDERS = {
    "openai": ("openai/", {"openai", "text-completion-openai"}),
    "anthropic": ("anthropic/", {"anthropic"}),
    "google": ("gemini/", {"gemini"}),
    "deepseek": ("deepseek/", {"deepseek"}),
    "mistral": ("mistral/", {"mistral"}),
    "xai": ("xai/", {"xai"}),
}

# Anthropic ids with no "anthropic" entry in litellm 1.110.2, checked against
# the Bedrock entry of the same model and date (Anthropic's list price).
LEGACY_KEYS = {
    "claude-opus-4-1": "anthropic.claude-opus-4-1-20250805-v1:0",
    "claude-opus-4-1-20250805": "anthropic.claude-opus-4-1-20250805-v1:0",
    "claude-opus-4": "anthropic.claude-opus-4-20250514-v1:0",
    "claude-opus-4-20250514": "anthropic.claude-opus-4-20250514-v1:0",
    "claude-sonnet-4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-sonnet-4-20250514": "anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-3-7-sonnet": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "claude-3-7-sonnet-20250219": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "claude-3-5-sonnet": "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "claude-3-5-sonnet-20241022": "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "claude-3-5-sonnet-20240620": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "claude-3-5-haiku": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "claude-3-5-haiku-20241022": "anthropic.claude-3-5-haiku-20241022-v1:0",
}
LEGACY_PROVIDERS = {"bedrock", "bedrock_converse"}

MILLION = Decimal(1_000_000)
TOLERANCE = Decimal("1e-15")


class Literal(str):
    """A TOML float kept as its source text (tomllib's parse_float hook)."""


def is_price_literal(value: object) -> bool:
    return isinstance(value, Literal) and PLAIN_DECIMAL.fullmatch(value) is not None


def fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def source_price(per_token: float) -> tuple[Decimal, bool]:
    """USD per 1M tokens rounded to 6 decimals, and whether that is exact."""
    rounded = round(Decimal(repr(per_token)) * MILLION, 6)
    exact = Decimal(per_token)  # the binary value, exactly
    return rounded, abs(rounded / MILLION - exact) <= abs(exact) * TOLERANCE


def resolve(db: dict, key: str) -> tuple[str, dict] | None:
    """Follow litellm's alias_of entries; (final key, entry) or None."""
    seen = set()
    while key in db and key not in seen:
        seen.add(key)
        entry = db[key]
        if isinstance(entry, dict) and "alias_of" in entry:
            key = entry["alias_of"]
            continue
        return (key, entry) if isinstance(entry, dict) else None
    return None


def find_key(db: dict, provider: str, name: str) -> tuple[str, str, dict, bool] | None:
    """(key tried, final key, entry, legacy?) for a name of this provider."""
    prefix = PROVIDERS[provider][0]
    bare = name[len(prefix):] if name.lower().startswith(prefix) else name
    for key in (prefix + bare, bare):
        found = resolve(db, key)
        if found:
            return key, found[0], found[1], False
    if provider == "anthropic" and bare in LEGACY_KEYS:
        found = resolve(db, LEGACY_KEYS[bare])
        if found:
            return LEGACY_KEYS[bare], found[0], found[1], True
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("litellm_json", nargs="?", type=Path, default=DEFAULT_JSON)
    parser.add_argument("pricing_toml", nargs="?", type=Path, default=DEFAULT_TOML)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every name with the litellm key it was checked against")
    args = parser.parse_args()

    raw_json = args.litellm_json.read_bytes()
    db = json.loads(raw_json)
    sha256 = hashlib.sha256(raw_json).hexdigest()
    toml_text = args.pricing_toml.read_text(encoding="utf-8")
    table = tomllib.loads(toml_text, parse_float=Literal)

    problems: list[str] = []
    notes: list[str] = []
    recorded = re.search(r"^#.*\bsha256\s+([0-9a-f]{64})", toml_text, re.M)
    if recorded and recorded.group(1) != sha256:
        notes.append(f"note: {args.litellm_json} has sha256 {sha256}, "
                     f"pricing.toml records {recorded.group(1)}")

    for key in table.keys() - TOP_KEYS:
        problems.append(f"top level: unknown key {key!r}")
    models = table.get("models", {})
    if not isinstance(models, dict) or not models:
        problems.append("no [models.\"...\"] tables")
        models = {}

    owner: dict[str, str] = {}  # lower-cased name or alias -> model
    counts: dict[str, list[int]] = {}
    checked = 0
    for name, model in models.items():
        where = f"[models.{json.dumps(name)}]"
        if not isinstance(model, dict):
            problems.append(f"{where}: not a table")
            continue
        for key in model.keys() - MODEL_KEYS:
            problems.append(f"{where}: unknown key {key!r}")
        provider = model.get("provider")
        if provider not in PROVIDERS:
            problems.append(f"{where}: provider {provider!r} is not one of {sorted(PROVIDERS)}")
            continue

        ours: dict[str, Decimal] = {}
        comparable = True  # prices well formed: compare them with the source
        for field in PRICE_FIELDS:
            if field not in model:
                if field in ("input", "output"):
                    problems.append(f"{where}: {field} is missing")
                    comparable = False
                continue
            value = model[field]
            if not is_price_literal(value):
                problems.append(f"{where}: {field} = {value!r} is not a plain decimal "
                                "with 1 to 6 decimals (write e.g. 2.5 or 0.000125)")
                comparable = False
                continue
            ours[field] = Decimal(value)
        tokenizer = model.get("tokenizer")
        if tokenizer is not None and tokenizer not in TOKENIZERS:
            problems.append(f"{where}: tokenizer {tokenizer!r} is not one of {sorted(TOKENIZERS)}")
        ratios = [f for f in ("bytes_per_token", "chars_per_token") if f in model]
        if len(ratios) == 2:
            problems.append(f"{where}: give bytes_per_token or chars_per_token, not both")
        for field in ratios:
            value = model[field]
            if not isinstance(value, (Literal, int)) or Decimal(value) <= 0:
                problems.append(f"{where}: {field} must be a positive number")
            if tokenizer not in (None, "heuristic"):
                problems.append(f"{where}: {field} applies to the heuristic tokenizer only")

        aliases = model.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            problems.append(f"{where}: aliases must be a list of strings")
            aliases = []
        counts.setdefault(provider, [0, 0])
        counts[provider][0] += 1
        counts[provider][1] += len(aliases)

        for label in [name, *aliases]:
            what = name if label == name else f"{label} (alias of {name})"
            if not label.strip():
                problems.append(f"{where}: empty name or alias")
                continue
            lower = label.lower()
            if lower in owner:
                problems.append(f"{what}: already names model {owner[lower]!r}")
                continue
            owner[lower] = name
            found = find_key(db, provider, label)
            if found is None:
                prefix = PROVIDERS[provider][0]
                bare = label[len(prefix):] if label.lower().startswith(prefix) else label
                problems.append(f"{what}: no litellm key {prefix + bare!r} or {bare!r}")
                continue
            if not comparable:
                continue  # the malformed price is already reported
            tried, final, entry, legacy = found
            via = tried if tried == final else f"{tried} -> {final}"
            checked += 1
            wanted = LEGACY_PROVIDERS if legacy else PROVIDERS[provider][1]
            if entry.get("litellm_provider") not in wanted:
                problems.append(f"{what}: litellm key {via!r} is litellm_provider "
                                f"{entry.get('litellm_provider')!r}, not {sorted(wanted)}")
            diffs = []
            for field, theirs in PRICE_FIELDS.items():
                per_token = entry.get(theirs)
                mine = ours.get(field)
                if per_token is None:
                    if mine is not None:
                        diffs.append(f"{field} {fmt(mine)} but the source lists none")
                    continue
                expected, exact = source_price(per_token)
                if not exact:
                    diffs.append(f"{field}: source {per_token!r}/token is not a 6-decimal price per 1M")
                elif mine is None:
                    diffs.append(f"{field} missing, source {fmt(expected)}")
                elif mine != expected:
                    diffs.append(f"{field} {fmt(mine)} != source {fmt(expected)}")
            if diffs:
                problems.append(f"{what}: litellm key {via!r}: " + "; ".join(diffs))
            elif args.verbose:
                print(f"  {label} -> {via}{'  (legacy Bedrock entry)' if legacy else ''}")

    default = table.get("default_model")
    if default is not None and str(default).lower() not in owner:
        problems.append(f"default_model {default!r} is not a model name or alias")

    for note in notes:
        print(note, file=sys.stderr)
    if problems:
        for problem in problems:
            print(problem)
        print(f"FAILED: {len(problems)} problem(s) in {args.pricing_toml}")
        return 1

    total_models = sum(c[0] for c in counts.values())
    total_aliases = sum(c[1] for c in counts.values())
    for provider in PROVIDERS:
        if provider in counts:
            m, a = counts[provider]
            print(f"  {provider:<10} {m:>3} models {a:>4} aliases")
    print(f"OK: {total_models} models, {total_aliases} aliases ({checked} names) match "
          f"{args.litellm_json.name} (sha256 {sha256[:12]}...), "
          "no duplicates, all prices <= 6 decimals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
