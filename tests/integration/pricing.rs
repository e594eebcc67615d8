//! Pricing: where the table comes from, exact money, unknown models, and
//! tables that fail to parse or validate.

use proptest::prelude::*;

use crate::util::{
    assert_one_error_line, cost_units, records, run, run_ok, summary, temp_dir, tokmeter,
};

fn table(dir: &std::path::Path, name: &str, output_price: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("default_model = \"m\"\n[models.m]\ninput = 1\noutput = {output_price}\n"),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn total_cost(output: &std::process::Output) -> String {
    summary(output)["total_cost"].as_str().unwrap().to_string()
}

#[test]
fn builtin_table_prices_gpt_4o() {
    // 400 bytes → 100 tokens at 10.00 per 1M output tokens.
    let output = run_ok(
        &["-m", "gpt-4o", "-t", "heuristic", "-s", "json"],
        &[b'a'; 400],
    );
    assert_eq!(total_cost(&output), "0.001");
    assert_eq!(summary(&output)["model"], "gpt-4o");
    // Aliases and case do not matter.
    let alias = run_ok(
        &["-m", "GPT-4O-2024-08-06", "-t", "heuristic", "-s", "json"],
        &[b'a'; 400],
    );
    assert_eq!(summary(&alias)["model"], "gpt-4o");
}

#[test]
fn input_side_pays_the_input_price() {
    let output = run_ok(
        &[
            "-m",
            "gpt-4o",
            "-t",
            "heuristic",
            "--side",
            "input",
            "-s",
            "json",
        ],
        &[b'a'; 400],
    );
    assert_eq!(total_cost(&output), "0.00025");
    assert_eq!(summary(&output)["side"], "input");
}

#[test]
fn table_precedence_flag_env_config_builtin() {
    let dir = temp_dir("precedence");
    let flag = table(&dir, "flag.toml", "1");
    let env = table(&dir, "env.toml", "2");
    std::fs::create_dir_all(dir.join("config/tokmeter")).unwrap();
    table(&dir.join("config/tokmeter"), "pricing.toml", "3");
    let config_home = dir.join("config");
    let input = vec![b'a'; 4_000_000]; // 1M tokens
    let cost = |args: &[&str], env_table: Option<&str>, config: bool| {
        let mut command = tokmeter();
        command
            .args(args)
            .args(["-t", "heuristic", "-s", "json"])
            .write_stdin(input.clone());
        if let Some(env_table) = env_table {
            command.env("TOKMETER_PRICING", env_table);
        }
        if config {
            command.env("XDG_CONFIG_HOME", &config_home);
        }
        total_cost(&command.output().unwrap())
    };
    assert_eq!(cost(&["-p", &flag], Some(&env), true), "1");
    assert_eq!(cost(&[], Some(&env), true), "2");
    assert_eq!(cost(&[], None, true), "3");
    assert_eq!(cost(&["-m", "gpt-4o"], None, false), "10");
}

#[test]
fn list_models_prints_the_table_in_use() {
    let builtin = run_ok(&["--list-models"], b"");
    let text = String::from_utf8(builtin.stdout).unwrap();
    assert!(text.contains("built-in"));
    for model in [
        "gpt-4o",
        "claude-sonnet-4-5",
        "gemini-2.5-pro",
        "deepseek-chat",
        "mistral-large-latest",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(model)),
            "{model} missing"
        );
    }
    let dir = temp_dir("list");
    let path = table(&dir, "t.toml", "0.5");
    let custom = run_ok(&["--list-models", "-p", &path], b"");
    let text = String::from_utf8(custom.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("0.50"));
}

#[test]
fn builtin_table_covers_six_providers() {
    let table = tokmeter::PricingTable::builtin().unwrap();
    assert!(table.models.len() >= 40);
    for provider in [
        "openai",
        "anthropic",
        "google",
        "deepseek",
        "mistral",
        "xai",
    ] {
        let count = table
            .models
            .iter()
            .filter(|m| m.provider.as_deref() == Some(provider))
            .count();
        assert!(count >= 4, "{provider}: {count} models");
    }
    assert!(table.lookup("claude-sonnet-4-5-20250929").is_some());
    assert!(table.lookup("gpt-4o-2024-08-06").is_some());
}

#[test]
fn a_million_tokens_at_ten_cost_exactly_ten() {
    let dir = temp_dir("million");
    let path = table(&dir, "t.toml", "10.00");
    let input = b"x\n".repeat(1_000_000);
    let output = run_ok(&["-p", &path, "-t", "chunk", "-s", "json"], &input);
    assert_eq!(summary(&output)["total_tokens"], 1_000_000);
    assert_eq!(total_cost(&output), "10");
}

#[test]
fn three_tokens_at_fifteen_cents_per_million() {
    let dir = temp_dir("small");
    let path = table(&dir, "t.toml", "0.15");
    let output = run_ok(
        &["-p", &path, "-t", "chunk", "-s", "json", "-f", "json"],
        b"a\nb\nc\n",
    );
    assert_eq!(total_cost(&output), "0.00000045");
    for record in records(&output.stdout) {
        assert_eq!(record["cost"], "0.00000015");
    }
    let text = run_ok(&["-p", &path, "-t", "chunk"], b"a\nb\nc\n");
    assert!(String::from_utf8_lossy(&text.stderr).contains("$0.00000045"));
}

#[test]
fn unknown_model_is_a_usage_error_naming_the_closest() {
    let output = run(&["-m", "gpt-4-o"], b"hello\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is read or written");
    assert_one_error_line(&output, "unknown model \"gpt-4-o\"");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gpt-4o"), "{stderr}");
}

#[test]
fn unknown_model_zero_counts_at_no_cost_and_says_so() {
    let output = run_ok(
        &[
            "-m",
            "my-local-model",
            "--unknown-model",
            "zero",
            "-s",
            "json",
        ],
        &[b'a'; 40],
    );
    let summary = summary(&output);
    assert_eq!(summary["total_tokens"], 10);
    assert_eq!(summary["total_cost"], "0");
    assert_eq!(summary["priced"], false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not in the pricing table"), "{stderr}");
}

fn bad_table(text: &str) -> std::process::Output {
    let dir = temp_dir("bad");
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    run(&["-p", path.to_str().unwrap()], b"hello\n")
}

#[test]
fn table_syntax_error_names_file_line_column() {
    let output = bad_table("[models.a]\ninput = 1\noutput = = 2\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert_one_error_line(&output, "bad.toml:3:");
}

#[test]
fn negative_price_names_file_line_column() {
    let output = bad_table("[models.a]\ninput = 1\noutput = -2.5\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "bad.toml:3:10: output -2.5 is negative");
}

#[test]
fn missing_price_is_rejected() {
    let output = bad_table("default_model = \"a\"\n[models.a]\ninput = 1\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "missing field `output`");
    assert_one_error_line(&output, "bad.toml:2:");
}

#[test]
fn too_many_decimals_and_unknown_keys_are_rejected() {
    let output = bad_table("[models.a]\ninput = 0.0000001\noutput = 1\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(
        &output,
        "bad.toml:2:9: input 0.0000001 has more than 6 decimal places",
    );
    let output = bad_table("[models.a]\ninput = 1\noutput = 1\ncolour = \"red\"\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "bad.toml:4:");
}

#[test]
fn alias_repeating_a_name_is_an_error_not_a_panic() {
    let output = bad_table("[models.x]\ninput=1\noutput=1\naliases=[\"x\"]\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "bad.toml:4:10: \"x\" already names model \"x\"");
    let output = bad_table("[models.x]\ninput=1\noutput=1\naliases=[\"y\", \"Y\"]\n");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "bad.toml:4:15: \"Y\" already names model \"x\"");
}

#[test]
fn heuristic_ratio_out_of_range_names_file_line_column() {
    for ratio in ["1e-300", "0.01", "5000", "0"] {
        let output = bad_table(&format!(
            "[models.a]\ninput = 1\noutput = 1\nbytes_per_token = {ratio}\n"
        ));
        assert_eq!(output.status.code(), Some(2), "{ratio}");
        assert_one_error_line(
            &output,
            "bad.toml:4:19: bytes_per_token must be a number from 0.1 to 1000",
        );
    }
}

#[test]
fn endless_pricing_file_is_refused() {
    let output = run(&["-p", "/dev/zero"], b"x");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "/dev/zero: larger than 16 MiB");
}

#[test]
fn unknown_model_with_an_empty_table_says_so() {
    let dir = temp_dir("empty");
    let path = dir.join("empty.toml");
    std::fs::write(&path, "").unwrap();
    let output = run(&["-p", path.to_str().unwrap(), "-m", "x\u{1b}[31m"], b"x");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "unknown model \"x\\u{1b}[31m\"");
    assert_one_error_line(&output, "(the table has no models)");
}

#[test]
fn missing_table_file_is_a_usage_error() {
    let output = run(&["-p", "/nonexistent/p.toml"], b"x");
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "/nonexistent/p.toml");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The summary's total is the exact sum of the chunks' costs, digit for
    /// digit, at any price with up to six decimals.
    #[test]
    fn total_cost_is_the_sum_of_chunk_costs(
        lines in proptest::collection::vec("[a-z 日]{0,40}", 1..60),
        whole in 0u64..100,
        millionths in 0u64..1_000_000,
    ) {
        let dir = temp_dir("sum");
        let price = format!("{whole}.{millionths:06}");
        let path = table(&dir, "t.toml", &price);
        let input = lines.join("\n");
        let output = run_ok(&["-p", &path, "-f", "json", "-s", "json"], input.as_bytes());
        let records = records(&output.stdout);
        let sum: u128 = records.iter().map(|r| cost_units(r["cost"].as_str().unwrap())).sum();
        let tokens: u64 = records.iter().map(|r| r["tokens"].as_u64().unwrap()).sum();
        let summary = summary(&output);
        prop_assert_eq!(cost_units(summary["total_cost"].as_str().unwrap()), sum);
        prop_assert_eq!(summary["total_tokens"].as_u64().unwrap(), tokens);
        let price_units = u128::from(whole) * 1_000_000 + u128::from(millionths);
        prop_assert_eq!(sum, u128::from(tokens) * price_units);
    }
}
