//! `tokmeter pricing import`: the built-in table is the import of the
//! litellm fixture with pricing/selection.toml, byte for byte; each of its
//! prices, tiers, modes and 1-hour writes is litellm's value for its source
//! key, read here independently of the importer; and a hand-written
//! models.dev api.json imports to the expected table.

use serde_json::{Map, Value};
use tokmeter::pricing::{Card, Prices};
use tokmeter::{Price, PricingTable};

use crate::util::tokmeter;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pricing");
const LITELLM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/pricing/litellm_model_prices.json"
);
const SELECTION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/selection.toml");

#[test]
fn the_builtin_table_is_the_import_of_the_litellm_fixture() {
    let output = tokmeter()
        .args([
            "pricing", "import", "litellm", LITELLM, "--select", SELECTION,
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let builtin = include_str!("../../pricing.toml");
    let imported = String::from_utf8(output.stdout).unwrap();
    if imported != builtin {
        let line = builtin
            .lines()
            .zip(imported.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "pricing.toml is not the import of the fixture from line {}: regenerate it \
             (see its header)\n  pricing.toml: {:?}\n  import:       {:?}",
            line + 1,
            builtin.lines().nth(line),
            imported.lines().nth(line)
        );
    }
}

/// litellm's base keys, by our key.
const BASES: [(&str, &str); 6] = [
    ("input", "input_cost_per_token"),
    ("output", "output_cost_per_token"),
    ("cache_read", "cache_read_input_token_cost"),
    ("cache_write", "cache_creation_input_token_cost"),
    (
        "cache_write_1h",
        "cache_creation_input_token_cost_above_1hr",
    ),
    ("reasoning", "output_cost_per_reasoning_token"),
];

fn get(prices: &Prices, key: &str) -> Option<Price> {
    match key {
        "input" => Some(prices.input),
        "output" => Some(prices.output),
        "cache_read" => prices.cache_read,
        "cache_write" => prices.cache_write,
        "cache_write_1h" => prices.cache_write_1h,
        _ => prices.reasoning,
    }
}

/// Whether our price is litellm's per-token `value`, to 1e-9 of it.
fn same(ours: Price, value: f64) -> bool {
    let ours = ours.millionths() as f64 * 1e-12;
    (ours - value).abs() <= value.abs() * 1e-9
}

fn resolve<'d>(db: &'d Map<String, Value>, key: &str) -> &'d Map<String, Value> {
    let entry = db[key].as_object().unwrap();
    match entry.get("alias_of").and_then(Value::as_str) {
        Some(next) => resolve(db, next),
        None => entry,
    }
}

/// Checks `prices` against the entry's keys `{base}{suffix}`, each of
/// which falls back to `fallback` when litellm lacks it. Returns how many
/// prices came from a key of their own.
fn check(
    entry: &Map<String, Value>,
    suffixes: &[String],
    prices: &Prices,
    fallback: &Prices,
    what: &str,
) -> usize {
    let mut own = 0;
    for (ours, theirs) in BASES {
        let value = suffixes
            .iter()
            .find_map(|s| entry.get(&format!("{theirs}{s}")).and_then(Value::as_f64));
        let got = get(prices, ours);
        match value {
            // Reasoning equal to output is written as no reasoning price.
            Some(v) if ours == "reasoning" && got.is_none() => {
                assert!(
                    same(prices.output, v),
                    "{what}: reasoning {v} is not output"
                )
            }
            Some(v) => {
                let got = got.unwrap_or_else(|| panic!("{what}: no {ours}, litellm {v}"));
                assert!(same(got, v), "{what}: {ours} {got} != litellm {v}");
                own += 1;
            }
            None => assert_eq!(
                got,
                get(fallback, ours),
                "{what}: {ours} is not the fallback's"
            ),
        }
    }
    own
}

#[test]
fn every_builtin_price_is_litellms_for_its_source_key() {
    let db: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(LITELLM).unwrap()).unwrap();
    let selection: toml::Table =
        toml::from_str(&std::fs::read_to_string(SELECTION).unwrap()).unwrap();
    let table = PricingTable::builtin().unwrap();
    let chosen = selection["models"].as_array().unwrap();
    assert_eq!(chosen.len(), table.models.len());
    let (mut tiers, mut modes, mut hours) = (0, 0, 0);
    for (model, chosen) in table.models.iter().zip(chosen) {
        assert_eq!(model.name, chosen["name"].as_str().unwrap());
        let key = chosen["key"].as_str().unwrap();
        let entry = resolve(&db, key);
        let xai = entry.get("litellm_provider").and_then(Value::as_str) == Some("xai");
        let card: &Card = model.card();
        assert!(model.history().is_empty() && card.effective_from.is_none());
        let what = format!("{} ({key})", model.name);
        check(entry, &[String::new()], &card.prices, &card.prices, &what);
        hours += usize::from(card.prices.cache_write_1h.is_some());
        // Every threshold litellm applies (by its input key) is a tier.
        let mut thresholds: Vec<u64> = entry
            .keys()
            .filter_map(|k| k.strip_prefix("input_cost_per_token_above_"))
            .filter_map(|k| k.strip_suffix("k_tokens"))
            .filter_map(|n| n.parse().ok())
            .collect();
        thresholds.sort();
        let sizes: Vec<u64> = card.tiers.iter().map(|t| t.size).collect();
        let want: Vec<u64> = thresholds
            .iter()
            .map(|n| if xai { n * 1000 - 1 } else { n * 1000 })
            .collect();
        assert_eq!(sizes, want, "{what}: tiers");
        let above = |size: u64| format!("_above_{}k_tokens", (size + u64::from(xai)) / 1000);
        for tier in &card.tiers {
            let what = format!("{what} above {}", tier.size);
            check(
                entry,
                &[above(tier.size)],
                &tier.prices,
                &card.prices,
                &what,
            );
            tiers += 1;
        }
        // Every service-tier suffix of a base key is a mode.
        let mut suffixes: Vec<&str> = Vec::new();
        for (_, theirs) in &BASES[..4] {
            for key in entry.keys() {
                let Some(rest) = key.strip_prefix(theirs).and_then(|r| r.strip_prefix('_')) else {
                    continue;
                };
                let rest = rest.rsplit('_').next().unwrap();
                if [
                    "batches",
                    "flex",
                    "priority",
                    "ultrafast",
                    "decisions",
                    "balanced",
                ]
                .contains(&rest)
                    && !suffixes.contains(&rest)
                {
                    suffixes.push(rest);
                }
            }
        }
        let mut names: Vec<&str> = card.modes.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        let mut want: Vec<&str> = suffixes
            .iter()
            .map(|s| if *s == "batches" { "batch" } else { s })
            .collect();
        want.sort();
        assert_eq!(names, want, "{what}: modes");
        for mode in &card.modes {
            let suffix = if mode.name == "batch" {
                "batches"
            } else {
                &mode.name
            };
            let what = format!("{what} mode {}", mode.name);
            check(
                entry,
                &[format!("_{suffix}")],
                &mode.prices,
                &card.prices,
                &what,
            );
            hours += usize::from(mode.prices.cache_write_1h.is_some());
            modes += 1;
            assert_eq!(mode.tiers.len(), card.tiers.len(), "{what}: tiers");
            for (tier, standard) in mode.tiers.iter().zip(&card.tiers) {
                assert_eq!(tier.size, standard.size);
                let what = format!("{what} above {}", tier.size);
                // litellm: the mode's price above the threshold; where it
                // lacks one, the standard tier's, but never less than the
                // mode's own base price.
                let own = [format!("{}_{suffix}", above(tier.size))];
                let floor = |key: &str, standard: Option<Price>| {
                    let (_, theirs) = BASES.iter().find(|(ours, _)| *ours == key).unwrap();
                    let mode_own = entry.contains_key(&format!("{theirs}_{suffix}"));
                    match (standard, get(&mode.prices, key)) {
                        (Some(standard), Some(base)) if mode_own => Some(standard.max(base)),
                        (standard, _) => standard,
                    }
                };
                let s = &standard.prices;
                let fallback = Prices {
                    input: floor("input", Some(s.input)).unwrap(),
                    output: floor("output", Some(s.output)).unwrap(),
                    cache_read: floor("cache_read", s.cache_read),
                    cache_write: floor("cache_write", s.cache_write),
                    cache_write_1h: floor("cache_write_1h", s.cache_write_1h),
                    reasoning: s.reasoning,
                };
                check(entry, &own, &tier.prices, &fallback, &what);
            }
        }
    }
    eprintln!("checked {tiers} tiers, {modes} modes, {hours} 1-hour prices");
    assert!(tiers >= 20 && modes >= 100 && hours >= 16);
}

#[test]
fn every_alias_that_litellm_lists_has_its_models_prices() {
    let db: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(LITELLM).unwrap()).unwrap();
    let table = PricingTable::builtin().unwrap();
    let mut checked = 0;
    for model in &table.models {
        let prefix = match model.provider.as_deref().unwrap() {
            "google" => "gemini/".to_string(),
            provider => format!("{provider}/"),
        };
        for alias in &model.aliases {
            let bare = alias.strip_prefix(&prefix).unwrap_or(alias);
            // Legacy Claude ids have no litellm key of their own.
            let Some(key) = [format!("{prefix}{bare}"), bare.to_string()]
                .into_iter()
                .find(|k| db.contains_key(k))
            else {
                continue;
            };
            let entry = resolve(&db, &key);
            let what = format!("{alias} (alias of {}, litellm key {key})", model.name);
            check(
                entry,
                &[String::new()],
                &model.card().prices,
                &model.card().prices,
                &what,
            );
            checked += 1;
        }
    }
    assert!(checked >= 150, "{checked}");
}

#[test]
fn a_models_dev_api_json_imports_with_tiers_limits_and_modes() {
    let output = tokmeter()
        .args([
            "pricing",
            "import",
            "models-dev",
            &format!("{FIXTURES}/models_dev_api.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let toml = String::from_utf8(output.stdout).unwrap();
    let expected = std::fs::read_to_string(format!("{FIXTURES}/models_dev_expected.toml")).unwrap();
    assert_eq!(toml, expected);
    let table = PricingTable::parse(&toml, "import").unwrap();
    let gpt = table.lookup("openai/gpt-5.4").unwrap();
    assert_eq!(gpt.card().tiers[0].size, 272_000);
    assert_eq!(gpt.limit_input, Some(922_000));
    assert!(gpt.card().modes.is_empty());
    let mini = table.lookup("openai/gpt-5.4-mini").unwrap();
    assert_eq!(mini.card().modes[0].name, "priority");
    let opus = table.lookup("anthropic/claude-opus-4-6").unwrap();
    assert_eq!(opus.card().modes[0].name, "fast");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "tokmeter: note: not imported: mode fast, flat over a card with tiers: openai/gpt-5.4"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("cost.context_over_200k"), "{stderr}");
}

#[test]
fn an_unknown_selection_key_and_a_bad_file_are_errors() {
    let dir = crate::util::temp_dir("pricing-import");
    let selection = dir.join("selection.toml");
    std::fs::write(
        &selection,
        "[[models]]\nname = \"x\"\nkey = \"no-such-model\"\n",
    )
    .unwrap();
    let output = tokmeter()
        .args(["pricing", "import", "litellm", LITELLM, "--select"])
        .arg(&selection)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    crate::util::assert_one_error_line(&output, "litellm has no key \"no-such-model\"");
    let output = tokmeter()
        .args(["pricing", "import", "models-dev", SELECTION])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    crate::util::assert_one_error_line(&output, "not models.dev's api.json");
    let output = tokmeter()
        .args([
            "pricing",
            "import",
            "models-dev",
            LITELLM,
            "--select",
            SELECTION,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_one_error_line(&output, "--select applies to litellm's price list only");
    let output = tokmeter().args(["pricing"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_one_error_line(&output, "requires a subcommand");
}
