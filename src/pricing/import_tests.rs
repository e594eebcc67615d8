use super::*;

#[test]
fn per_token_prices_become_exact_six_decimal_prices_per_million() {
    assert_eq!(millionths(1.25e-6, 6), Ok(1_250_000));
    assert_eq!(millionths(3.0000000000000004e-6, 6), Ok(3_000_000));
    assert_eq!(millionths(1.25e-7, 6), Ok(125_000));
    assert_eq!(millionths(0.0, 6), Ok(0));
    assert_eq!(millionths(2.5, 0), Ok(2_500_000));
    assert_eq!(millionths(0.000125, 0), Ok(125));
    assert!(millionths(1.4666666666666667e-6, 6).is_err());
    assert!(millionths(1e-15, 6).is_err());
    assert!(millionths(-1.0, 0).is_err());
    assert!(millionths(f64::NAN, 0).is_err());
}

#[test]
fn decimals_and_sizes_are_written_plainly() {
    assert_eq!(decimal(4_000_000), "4.0");
    assert_eq!(decimal(125), "0.000125");
    assert_eq!(decimal(2_500_000), "2.5");
    assert_eq!(grouped(272_000), "272_000");
    assert_eq!(grouped(199_999), "199_999");
    assert_eq!(grouped(1_000), "1_000");
    assert_eq!(grouped(999), "999");
    assert_eq!(quote("a\"b\\"), "\"a\\\"b\\\\\"");
}

#[test]
fn litellm_tiers_modes_and_hour_writes_map_to_cards() {
    let json = r#"{
        "m": {"litellm_provider": "openai",
              "input_cost_per_token": 2e-6, "output_cost_per_token": 1.2e-5,
              "cache_read_input_token_cost": 2e-7,
              "input_cost_per_token_above_272k_tokens": 4e-6,
              "output_cost_per_token_above_272k_tokens": 1.8e-5,
              "input_cost_per_token_batches": 1e-6, "output_cost_per_token_batches": 6e-6,
              "input_cost_per_token_above_272k_tokens_batches": 2e-6,
              "input_cost_per_audio_token": 1e-5},
        "g": {"litellm_provider": "xai", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
              "input_cost_per_token_above_200k_tokens": 2e-6},
        "c": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
              "cache_creation_input_token_cost": 3.75e-6,
              "cache_creation_input_token_cost_above_1hr": 6e-6,
              "output_cost_per_reasoning_token": 1.5e-5},
        "a": {"alias_of": "c"}
    }"#;
    let imported = from_litellm(json, None).unwrap();
    let want = r#"
[models."c"]
provider = "anthropic"
input = 3.0
output = 15.0
cache_write = 3.75
cache_write_1h = 6.0
aliases = ["a"]

[models."g"]
provider = "xai"
input = 1.0
output = 2.0

[[models."g".tiers]]
tier = { type = "context", size = 199_999 }
input = 2.0
output = 2.0

[models."m"]
provider = "openai"
input = 2.0
output = 12.0
cache_read = 0.2

[[models."m".tiers]]
tier = { type = "context", size = 272_000 }
input = 4.0
output = 18.0
cache_read = 0.2

[models."m".modes.batch]
input = 1.0
output = 6.0

[[models."m".modes.batch.tiers]]
tier = { type = "context", size = 272_000 }
input = 2.0
output = 18.0
cache_read = 0.2
"#;
    assert!(imported.toml.ends_with(want), "{}", imported.toml);
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("input_cost_per_audio_token: m")),
        "{:?}",
        imported.notes
    );
}
