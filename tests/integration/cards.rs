//! Pricing cards through the binary: the worked examples of the pricing
//! research (tests/fixtures/pricing/cards.toml carries their prices), each
//! as a response in an agent log, priced to the last digit by its date,
//! mode and context tier.

use std::path::Path;

use serde_json::Value;

use crate::util::{temp_dir, tokmeter};

const CARDS: &str = "tests/fixtures/pricing/cards.toml";

/// A Claude Code response line: its model, time, usage and served tier.
fn claude(id: &str, model: &str, time: &str, usage: &str, tier: &str) -> String {
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"type":"assistant","message":{{"model":"{model}","id":"msg_{id}","type":"message","role":"assistant","content":[],"stop_reason":"end_turn","usage":{{{usage},"service_tier":"{tier}"}}}},"requestId":"req_{id}","uuid":"u{id}","timestamp":"{time}","sessionId":"s","version":"2.0.60"}}"#
    )
}

/// Prices `lines` as a Claude Code log with the cards' table: each
/// response's cost, and the summary.
fn price(lines: &[String]) -> (Vec<String>, Value) {
    let dir = temp_dir("cards");
    let mut costs = Vec::new();
    let mut last = Value::Null;
    for (i, line) in lines.iter().enumerate() {
        let path = dir.join(format!("{i}.jsonl"));
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let output = tokmeter()
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .args(["-p", CARDS, "--input", "claude-code", "-s", "json"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        last = serde_json::from_slice(&output.stderr).unwrap();
        costs.push(last["total_cost"].as_str().unwrap().to_string());
    }
    (costs, last)
}

const NOW: &str = "2026-11-30T12:00:00Z";

#[test]
fn a_long_prompt_bills_the_whole_request_at_its_tier_counting_the_cache() {
    let (costs, s) = price(&[
        // 1: 250,000 uncached + 1,000 out, above 200,000.
        claude(
            "1",
            "claude-sonnet-4-5",
            NOW,
            r#""input_tokens":250000,"output_tokens":1000"#,
            "standard",
        ),
        // 2: 10,000 uncached + 240,000 read: the prompt is 250,000.
        claude(
            "2",
            "claude-sonnet-4-5",
            NOW,
            r#""input_tokens":10000,"cache_read_input_tokens":240000,"output_tokens":1000"#,
            "standard",
        ),
        // 9: 5x above 100,000.
        claude(
            "9",
            "claude-haiku-5-5",
            NOW,
            r#""input_tokens":150000,"output_tokens":1000"#,
            "standard",
        ),
    ]);
    assert_eq!(costs, ["1.5225", "0.2265", "0.0775"]);
    let cards = &s["agent"]["models"][0]["cards"];
    assert_eq!(cards[0]["tier"], ">100000");
    assert_eq!(cards[0]["responses"], 1);
}

#[test]
fn the_tier_starts_one_token_above_its_size() {
    let (costs, _) = price(&[
        claude(
            "3a",
            "gemini-2.5-pro",
            NOW,
            r#""input_tokens":200000,"output_tokens":2000"#,
            "standard",
        ),
        claude(
            "3b",
            "gemini-2.5-pro",
            NOW,
            r#""input_tokens":200001,"output_tokens":2000"#,
            "standard",
        ),
    ]);
    assert_eq!(costs, ["0.27", "0.5300025"]);
}

#[test]
fn a_mode_pays_its_own_card_and_its_own_tier() {
    let (costs, s) = price(&[
        // 4: flex, 300,000 prompt (280,000 cached), 5,000 out.
        claude(
            "4",
            "gpt-5.6-sol",
            NOW,
            r#""input_tokens":20000,"cache_read_input_tokens":280000,"output_tokens":5000"#,
            "flex",
        ),
        claude(
            "4s",
            "gpt-5.6-sol",
            NOW,
            r#""input_tokens":20000,"cache_read_input_tokens":280000,"output_tokens":5000"#,
            "standard",
        ),
        // 7: batch.
        claude(
            "7",
            "claude-sonnet-4-6",
            NOW,
            r#""input_tokens":10000,"output_tokens":1000"#,
            "batch",
        ),
    ]);
    assert_eq!(costs, ["0.267", "0.534", "0.0225"]);
    assert_eq!(s["agent"]["models"][0]["cards"][0]["mode"], "batch");
}

#[test]
fn one_hour_writes_pay_their_own_price() {
    let usage = r#""input_tokens":2000,"cache_read_input_tokens":100000,"cache_creation_input_tokens":50000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":50000},"output_tokens":1500"#;
    let (costs, _) = price(&[claude("5", "claude-opus-4-8", NOW, usage, "standard")]);
    assert_eq!(costs, ["0.5975"]);
}

#[test]
fn a_dated_response_pays_the_card_in_force_on_its_day() {
    let usage = r#""input_tokens":100000,"output_tokens":2000"#;
    let (costs, s) = price(&[
        claude(
            "6a",
            "gpt-5.6-terra",
            "2026-07-15T10:00:00Z",
            usage,
            "standard",
        ),
        claude(
            "6b",
            "gpt-5.6-terra",
            "2026-07-30T00:00:00Z",
            usage,
            "standard",
        ),
    ]);
    assert_eq!(costs, ["0.28", "0.224"]);
    assert_eq!(
        s["agent"]["models"][0]["cards"][0]["effective_from"],
        "2026-07-30"
    );
}

#[test]
fn reasoning_is_billed_inside_output_once() {
    let dir = temp_dir("cards-codex");
    let path = dir.join("rollout.jsonl");
    let lines = [
        r#"{"timestamp":"2026-11-30T12:00:00Z","type":"turn_context","payload":{"model":"o3"}}"#,
        r#"{"timestamp":"2026-11-30T12:00:01Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":0,"cached_input_tokens":0,"output_tokens":10000,"reasoning_output_tokens":8000}}}}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = tokmeter()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["-p", CARDS, "--input", "codex", "-s", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(s["total_cost"], "0.08");
    assert_eq!(s["agent"]["reasoning_tokens"], 8000);
}

#[test]
fn mixed_modes_in_one_log_are_counted_per_card() {
    let dir = temp_dir("cards-mixed");
    let path = dir.join("mixed.jsonl");
    let usage = r#""input_tokens":10000,"output_tokens":1000"#;
    let lines = [
        claude("m1", "claude-sonnet-4-6", NOW, usage, "batch"),
        claude("m2", "claude-sonnet-4-6", NOW, usage, "standard"),
        claude("m3", "claude-sonnet-4-6", NOW, usage, "batch"),
        claude("m4", "claude-sonnet-4-6", NOW, usage, "priority"),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = tokmeter()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["-p", CARDS, "--input", "claude-code", "-s", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // batch 0.0225 × 2 + standard 0.045 + priority, which the card lacks,
    // at the standard prices with a warning.
    assert!(
        stderr.contains("1 response to model \"claude-sonnet-4-6\" name a mode its card lacks"),
        "{stderr}"
    );
    let s: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(s["total_cost"], "0.135");
    let cards: Vec<(Value, u64)> = s["agent"]["models"][0]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["mode"].clone(), c["responses"].as_u64().unwrap()))
        .collect();
    assert_eq!(cards, [(Value::Null, 2), (Value::from("batch"), 2)]);
}

/// Runs tokmeter on `stdin` with the cards' table; the JSON summary.
fn meter(args: &[&str], stdin: &[u8]) -> (Option<i32>, Value, String) {
    let output = tokmeter()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["-p", CARDS, "-s", "json", "-t", "heuristic"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let summary = stderr
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (output.status.code(), summary, stderr)
}

#[test]
fn a_text_streams_output_pays_the_tier_of_the_prompt_it_is_told() {
    // 8 bytes: 2 tokens by the heuristic.
    let base = meter(&["-m", "gemini-2.5-pro"], b"abcdefgh").1;
    assert_eq!(base["total_cost"], "0.00002");
    let long = meter(
        &["-m", "gemini-2.5-pro", "--prompt-tokens", "200001"],
        b"abcdefgh",
    )
    .1;
    assert_eq!(long["total_cost"], "0.00003");
    assert_eq!(long["card"]["tier"], ">200000");
    assert_eq!(base["card"], Value::Null, "the base card is not named");
    let edge = meter(
        &["-m", "gemini-2.5-pro", "--prompt-tokens", "200000"],
        b"abcdefgh",
    )
    .1;
    assert_eq!(edge["total_cost"], "0.00002");
}

#[test]
fn a_text_stream_pays_the_mode_and_the_date_it_is_told() {
    let batch = meter(&["-m", "claude-sonnet-4-6", "--mode", "batch"], b"abcdefgh").1;
    assert_eq!(batch["total_cost"], "0.000015");
    assert_eq!(batch["card"]["mode"], "batch");
    let (status, _, stderr) = meter(&["-m", "claude-sonnet-4-6", "--mode", "priority"], b"x");
    assert_eq!(status, Some(2));
    assert!(
        stderr.contains("has no such mode in the pricing table (it has batch)"),
        "{stderr}"
    );
    let old = meter(
        &["-m", "gpt-5.6-terra", "--date", "2026-07-15"],
        b"abcdefgh",
    )
    .1;
    assert_eq!(old["total_cost"], "0.00003");
    assert_eq!(old["card"]["effective_from"], "2026-07-09");
    let now = meter(&["-m", "gpt-5.6-terra"], b"abcdefgh").1;
    assert_eq!(now["total_cost"], "0.000024");
}

#[test]
fn a_prompt_metered_as_input_re_prices_the_session_when_it_crosses_a_tier() {
    // 100,000 tokens, then 4 more: the whole prompt pays the tier.
    let mut prompt = vec![b'a'; 399_999];
    prompt.extend_from_slice(b"\n0123456789abcde\n");
    let output = tokmeter()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["-p", CARDS, "-t", "heuristic", "-m", "claude-haiku-5-5"])
        .args(["--side", "input", "-f", "json", "-s", "json"])
        .write_stdin(prompt.clone())
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let costs: Vec<&str> = records
        .iter()
        .map(|r| r["cost"].as_str().unwrap())
        .collect();
    assert_eq!(costs, ["0.01", "0.040002"]);
    let summary: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(summary["total_cost"], "0.050002");
    assert_eq!(summary["card"]["tier"], ">100000");
    // A budget sees the tier's price: the crossing chunk would pass it.
    let (status, summary, _) = meter(
        &[
            "-m",
            "claude-haiku-5-5",
            "--side",
            "input",
            "--max-cost",
            "0.03",
        ],
        &prompt,
    );
    assert_eq!(status, Some(3));
    assert_eq!(summary["total_cost"], "0.01");
}

#[test]
fn a_provider_stream_pays_the_tier_of_the_prompt_it_reports() {
    let stream = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"model":"claude-sonnet-4-5","id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10000,"cache_read_input_tokens":240000,"output_tokens":1}}}"#,
        "\n\n",
        "event: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1000}}"#,
        "\n\n",
        "event: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    );
    let (status, summary, stderr) = meter(&["--input", "anthropic"], stream.as_bytes());
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(summary["total_cost"], "0.2265");
    assert_eq!(summary["card"]["tier"], ">200000");
}

#[test]
fn a_chat_transcripts_records_with_usage_are_requests_of_their_own() {
    let lines = [
        // Below the tier, then above it (counting the cache), then batch.
        r#"{"role":"assistant","content":"a","usage":{"input_tokens":10000,"output_tokens":1000}}"#,
        r#"{"role":"assistant","content":"b","usage":{"input_tokens":10000,"cache_read_input_tokens":240000,"output_tokens":1000}}"#,
        r#"{"role":"assistant","content":"c","service_tier":"batch","usage":{"input_tokens":10000,"output_tokens":1000}}"#,
        // No usage: the base card, tokenized (4 bytes: 1 token of input).
        r#"{"role":"user","content":"abcd"}"#,
    ];
    let dir = temp_dir("cards-chat");
    let path = dir.join("chat.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let run = |model: &str| {
        let output = tokmeter()
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .args([
                "-p",
                CARDS,
                "--input",
                "transcript",
                "-t",
                "heuristic",
                "-s",
                "json",
            ])
            .args(["-m", model])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        serde_json::from_slice::<Value>(&output.stderr).unwrap()
    };
    // claude-sonnet-4-5: 0.045 + 0.2265 + 0.045 (no batch mode: its own
    // prices) + 1 input token at $3.
    let s = run("claude-sonnet-4-5");
    assert_eq!(s["total_cost"], "0.316503");
    assert_eq!(
        s["transcript"]["requests_by_card"],
        serde_json::json!({"base": 2, ">200000": 1})
    );
    // claude-sonnet-4-6: batch is a mode of its own: 0.045 + 0.765 + 0.0225.
    let s = run("claude-sonnet-4-6");
    assert_eq!(s["total_cost"], "0.832503");
    assert_eq!(
        s["transcript"]["requests_by_card"],
        serde_json::json!({"base": 2, "batch base": 1})
    );
}

#[test]
fn a_table_that_could_under_bill_is_refused_with_its_place() {
    let dir = temp_dir("cards-bad");
    let path = dir.join("bad.toml");
    let text = "[models.s]\ninput = 3\noutput = 15\ncache_write_1h = 6\n[[models.s.tiers]]\ntier = { size = 200_000 }\ninput = 6\noutput = 22.5\n";
    std::fs::write(&path, text).unwrap();
    let output = tokmeter()
        .arg("-p")
        .arg(&path)
        .args(["-m", "s"])
        .write_stdin("x")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml:5:1: a tier lists exactly the prices of its card: this one lacks cache_write_1h"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing is read before the table is valid"
    );
}

#[test]
fn an_estimated_prompt_near_a_tier_is_said_to_be_an_estimate() {
    let dir = temp_dir("cards-estimate");
    let prompt = dir.join("prompt.txt");
    std::fs::write(&prompt, vec![b'a'; 780_000]).unwrap();
    let (status, _, stderr) = meter(
        &["-m", "gemini-2.5-pro", "--prompt", prompt.to_str().unwrap()],
        b"abcdefgh",
    );
    assert_eq!(status, Some(0));
    assert!(
        stderr.contains("tokens are an estimate near the tier at 200,000"),
        "{stderr}"
    );
}

#[test]
fn a_replayed_turn_is_a_request_whose_prompt_is_the_conversation_before_it() {
    let dir = temp_dir("cards-replay");
    let path = dir.join("chat.jsonl");
    // 800,004 bytes: 200,001 tokens by the heuristic; then 1 output token.
    let long = "a".repeat(800_004);
    let lines = [
        format!(r#"{{"role":"user","content":"{long}"}}"#),
        r#"{"role":"assistant","content":"abcd"}"#.to_string(),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let run = |replay: bool| {
        let mut command = tokmeter();
        command
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .args([
                "-p",
                CARDS,
                "--input",
                "transcript",
                "-t",
                "heuristic",
                "-s",
                "json",
            ])
            .args(["-m", "claude-sonnet-4-5"]);
        if replay {
            command.arg("--replay");
        }
        let output = command.arg(&path).output().unwrap();
        serde_json::from_slice::<Value>(&output.stderr).unwrap()
    };
    // Each message once: no request, the base prices.
    assert_eq!(run(false)["total_cost"], "0.600018");
    // Replayed: the turn's prompt is 200,001 tokens, past the tier.
    let replayed = run(true);
    assert_eq!(replayed["total_cost"], "1.2000285");
    assert_eq!(
        replayed["transcript"]["requests_by_card"],
        serde_json::json!({">200000": 1})
    );
}
