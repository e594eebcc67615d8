//! Provider API streams (`--input auto` and the named formats) through the
//! real binary on the sample streams of tests/fixtures/streams: passed
//! through byte for byte, billed from their usage (or their deltas), and
//! the same however the bytes are cut.

use std::path::Path;

use serde_json::Value;

use crate::util::{random_bytes, run, summary};

/// The samples, their format's name, and whether their model is in the
/// built-in table.
const SAMPLES: &[(&str, &str)] = &[
    ("openai-chat.sse", "openai-chat"),
    ("openai-chat-usage.sse", "openai-chat"),
    ("openai-chat-error.sse", "openai-chat"),
    ("openai-responses.sse", "openai-responses"),
    ("anthropic.sse", "anthropic"),
    ("gemini.sse", "gemini"),
    ("openrouter.sse", "openai-chat"),
    ("ollama-chat.ndjson", "ollama"),
    ("ollama-generate.ndjson", "ollama"),
    ("sse-edge-cases.sse", "openai-chat"),
];

fn sample(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/streams")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `curl -i` output: a status line and headers before the body.
fn with_headers(body: &[u8]) -> Vec<u8> {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\r\n"
            .to_vec();
    bytes.extend_from_slice(body);
    bytes
}

fn provider(output: &std::process::Output) -> Value {
    summary(output)["provider"].clone()
}

#[test]
fn every_sample_passes_through_byte_for_byte() {
    for (name, format) in SAMPLES {
        let body = sample(name);
        for input in [body.clone(), with_headers(&body)] {
            for kind in ["auto", format] {
                let args = ["--input", kind, "--unknown-model", "zero", "-s", "json"];
                let output = run(&args, &input);
                assert!(
                    output.stdout == input,
                    "{name} with --input {kind}: output differs"
                );
                let found = provider(&output);
                assert_eq!(found["format"], *format, "{name} --input {kind}");
                assert_eq!(found["detected"], kind == "auto", "{name}");
            }
        }
    }
}

#[test]
fn every_sample_is_billed_as_its_readme_says() {
    // (sample, usage input, usage output, reasoning, billed, stream model)
    type Expected = (
        &'static str,
        Option<u64>,
        Option<u64>,
        Option<u64>,
        &'static str,
        &'static str,
    );
    let expected: &[Expected] = &[
        (
            "openai-chat.sse",
            None,
            None,
            None,
            "count",
            "gpt-4o-2024-08-06",
        ),
        (
            "openai-chat-usage.sse",
            Some(14),
            Some(30),
            Some(0),
            "usage",
            "gpt-4o-2024-08-06",
        ),
        (
            "openai-responses.sse",
            Some(11),
            Some(18),
            Some(0),
            "usage",
            "gpt-4o-mini-2024-07-18",
        ),
        (
            "anthropic.sse",
            Some(12),
            Some(30),
            None,
            "usage",
            "claude-sonnet-4-5-20250929",
        ),
        (
            "gemini.sse",
            Some(9),
            Some(285),
            Some(256),
            "usage",
            "gemini-3-pro-preview",
        ),
        (
            "openrouter.sse",
            Some(14),
            Some(12),
            Some(9),
            "usage",
            "deepseek/deepseek-r1",
        ),
        (
            "ollama-chat.ndjson",
            Some(26),
            Some(22),
            None,
            "usage",
            "llama3.2",
        ),
        (
            "ollama-generate.ndjson",
            Some(11),
            Some(7),
            None,
            "usage",
            "gemma4",
        ),
    ];
    for (name, input, output_tokens, reasoning, billed, model) in expected {
        let output = run(
            &["--input", "auto", "--unknown-model", "zero", "-s", "json"],
            &sample(name),
        );
        assert_eq!(output.status.code(), Some(0), "{name}");
        let found = provider(&output);
        assert_eq!(found["billed"], *billed, "{name}");
        assert_eq!(found["model"], *model, "{name}");
        assert_eq!(found["complete"], true, "{name}");
        let usage = &found["usage"];
        assert_eq!(usage["input"].as_u64(), *input, "{name}");
        assert_eq!(usage["output"].as_u64(), *output_tokens, "{name}");
        assert_eq!(usage["reasoning"].as_u64(), *reasoning, "{name}");
        if *billed == "usage" {
            assert_eq!(
                summary(&output)["total_tokens"].as_u64(),
                Some(input.unwrap() + output_tokens.unwrap()),
                "{name}: the usage is what is billed"
            );
        }
    }
}

#[test]
fn usage_is_priced_per_token_class_at_the_models_prices() {
    // gpt-4o: $2.50 input, $10 output per 1M tokens; 14 + 30 tokens.
    let output = run(
        &["--input", "auto", "-s", "json"],
        &sample("openai-chat-usage.sse"),
    );
    let s = summary(&output);
    assert_eq!(
        s["model"], "gpt-4o",
        "the stream's model, through its alias"
    );
    assert_eq!(s["total_cost"], "0.000335");
    assert_eq!(s["provider"]["counted_output_tokens"], 30);
    // OpenRouter's own figure is shown beside ours.
    let output = run(
        &["--input", "auto", "-s", "json"],
        &sample("openrouter.sse"),
    );
    assert_eq!(
        provider(&output)["usage"]["reported_cost"],
        "0.0000329",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_stream_without_usage_is_billed_from_its_deltas_and_the_given_prompt() {
    let body = sample("openai-chat.sse");
    let output = run(&["--input", "openai-chat", "-s", "json"], &body);
    let s = summary(&output);
    assert_eq!(s["provider"]["billed"], "count");
    assert_eq!(s["total_tokens"], 30);
    assert_eq!(s["side"], "output");
    assert_eq!(s["total_cost"], "0.0003");
    let output = run(
        &[
            "--input",
            "openai-chat",
            "--prompt-tokens",
            "14",
            "-s",
            "json",
        ],
        &body,
    );
    let s = summary(&output);
    assert_eq!(s["total_tokens"], 44);
    assert_eq!(s["side"], "both");
    assert_eq!(s["total_cost"], "0.000335");
    assert_eq!(s["provider"]["prompt_tokens"], 14);
}

#[test]
fn the_model_flag_wins_over_the_streams_model() {
    let output = run(
        &["--input", "auto", "-m", "gpt-4o-mini", "-s", "json"],
        &sample("openai-chat-usage.sse"),
    );
    let s = summary(&output);
    assert_eq!(s["model"], "gpt-4o-mini");
    assert_eq!(s["provider"]["model"], "gpt-4o-2024-08-06");
}

#[test]
fn an_error_event_ends_the_session_billed_for_what_was_delivered() {
    let body = sample("openai-chat-error.sse");
    let output = run(&["--input", "auto", "-s", "json"], &body);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, body, "the error event is passed on too");
    let s = summary(&output);
    let error = s["error"].as_str().unwrap();
    assert!(
        error.starts_with("provider error: server_error: The server had an error"),
        "{error}"
    );
    assert_eq!(s["provider"]["complete"], false);
    assert!(s["total_tokens"].as_u64().unwrap() > 0, "never $0");
}

#[test]
fn an_unknown_model_named_by_the_stream_passes_through_and_exits_2() {
    let body = sample("gemini.sse");
    let output = run(&["--input", "auto", "-s", "json"], &body);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(output.stdout, body);
    let s = summary(&output);
    assert_eq!(s["priced"], false);
    assert!(
        s["error"]
            .as_str()
            .unwrap()
            .contains("unknown model \"gemini-3-pro-preview\""),
        "{s}"
    );
}

#[test]
fn a_stream_cut_before_its_end_is_billed_for_the_deltas_delivered() {
    let body = sample("anthropic.sse");
    let text = String::from_utf8(body.clone()).unwrap();
    let cut = text.find("event: message_delta").unwrap();
    let output = run(&["--input", "anthropic", "-s", "json"], &body[..cut]);
    assert_eq!(output.status.code(), Some(0));
    let p = provider(&output);
    assert_eq!(p["complete"], false);
    let counted = p["counted_output_tokens"].as_u64().unwrap();
    assert!(counted > 1);
    assert_eq!(
        p["usage"]["output"],
        Value::Null,
        "message_start's placeholder is no count"
    );
    assert_eq!(
        summary(&output)["total_tokens"].as_u64(),
        Some(12 + counted)
    );
}

#[test]
fn a_budget_stops_at_an_event_boundary() {
    let body = sample("openai-chat.sse");
    let output = run(
        &["--input", "openai-chat", "--max-tokens", "5", "-s", "json"],
        &body,
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(body.starts_with(&output.stdout));
    assert!(output.stdout.ends_with(b"\n\n"), "a whole event last");
    assert!(output.stdout.len() < body.len());
    assert!(summary(&output)["total_tokens"].as_u64().unwrap() <= 5);
}

#[test]
fn text_format_writes_the_visible_answer_only() {
    let output = run(
        &["--input", "auto", "-f", "text", "-s", "none"],
        &sample("openrouter.sse"),
    );
    assert_eq!(output.stdout, b"Paris.", "no reasoning, no framing");
    let output = run(
        &["--input", "auto", "-f", "text", "-s", "none"],
        &sample("openai-chat.sse"),
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("I'm unable to provide real-time weather"),
        "{text}"
    );
    assert_eq!(text.chars().count(), 159);
}

#[test]
fn json_records_carry_kind_choice_and_event() {
    let output = run(
        &["--input", "auto", "-f", "json", "-s", "none"],
        &sample("openrouter.sse"),
    );
    let records = crate::util::records(&output.stdout);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"reasoning") && kinds.contains(&"text"),
        "{kinds:?}"
    );
    assert!(records.iter().all(|r| r["choice"] == 0));
    assert!(records.iter().all(|r| r["metadata"]["event"] == "message"));
    let reasoning: String = records
        .iter()
        .filter(|r| r["kind"] == "reasoning")
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasoning, "The user wants a one-word answer.",
        "counted once"
    );
}

#[test]
fn bytes_that_are_no_provider_stream_are_text_with_one_warning() {
    let output = run(
        &["--input", "auto", "-s", "json"],
        b"hello world\nsecond line\n",
    );
    assert_eq!(output.stdout, b"hello world\nsecond line\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("warning").count(), 1, "{stderr}");
    assert_eq!(provider(&output)["format"], "text");
    for seed in 0..24 {
        let bytes = random_bytes(seed, 1 + (seed as usize * 997) % 9000);
        let output = run(&["--input", "auto", "-s", "none"], &bytes);
        assert!(output.stdout == bytes, "seed {seed}: output differs");
        assert!(matches!(output.status.code(), Some(0 | 2)), "seed {seed}");
    }
}

#[test]
fn text_flags_are_refused_for_provider_streams() {
    let output = run(&["--input", "anthropic", "--arrival"], b"");
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_one_error_line(&output, "--arrival applies to text streams");
    let output = run(&["--side", "input", "--prompt-tokens", "3"], b"");
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_one_error_line(&output, "--prompt-tokens applies to output");
}

/// A reader that hands out at most `step` bytes per read.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let take = self.step.min(out.len()).min(self.data.len());
        out[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}

/// What a run of the pipeline over `input`, read `step` bytes at a time,
/// shows: the raw output, the totals and what the decoder found.
fn through_pipeline(input: &[u8], step: usize, auto: bool) -> (Vec<u8>, String) {
    use tokmeter::decode::Provider;
    use tokmeter::format::{Format as Output, formatter};
    use tokmeter::output::{FlushPolicy, Output as Out};
    use tokmeter::pipeline::{Settings, run};

    let tokenizer = tokmeter::tokenize::Heuristic::default();
    let format = if auto {
        None
    } else {
        tokmeter::decode::providers::detect(input)
    };
    let framing = format.map_or(
        tokmeter::Framing::Delimiter(b"\n".to_vec()),
        Provider::framing,
    );
    let settings = Settings::new(&tokenizer, framing, tokmeter::Price::parse("10").unwrap());
    let mut decoder = Provider::new(format);
    let mut output = Out::new(Vec::new(), FlushPolicy::Block);
    let mut raw = formatter(Output::Raw, &[]);
    let mut clock = tokmeter::clock::Clock::start();
    let reader = Pieces { data: input, step };
    let ending = run(
        reader,
        &mut output,
        raw.as_mut(),
        &mut decoder,
        &mut clock,
        &settings,
    );
    let found = format!(
        "{:?} {:?} {:?} {:?} {:?} ended={} bad={} stop={:?}",
        decoder.verdict(),
        ending.totals,
        decoder.usage,
        decoder.model,
        decoder.error,
        decoder.ended,
        decoder.bad_payloads,
        ending.stop.describe(),
    );
    (output.into_inner(), found)
}

#[test]
fn pieces_of_one_and_seven_bytes_give_the_figures_of_the_whole() {
    for (name, _) in SAMPLES {
        let body = sample(name);
        for auto in [false, true] {
            let (whole_output, whole) = through_pipeline(&body, usize::MAX, auto);
            assert!(whole_output == body, "{name}: raw output differs");
            for step in [1, 7] {
                let (output, found) = through_pipeline(&body, step, auto);
                assert!(
                    output == body,
                    "{name} in {step}-byte pieces: raw output differs"
                );
                assert_eq!(found, whole, "{name} in {step}-byte pieces (auto: {auto})");
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Streams made of pieces of the samples and of SSE's own bytes, in
    /// pieces of any size: raw output is the input and the figures are
    /// those of the whole.
    #[test]
    fn any_stream_in_any_pieces_passes_through_with_the_figures_of_the_whole(
        parts in proptest::collection::vec(0usize..12, 0..40),
        start in 0usize..10,
        step in 1usize..23,
    ) {
        const BITS: &[&[u8]] = &[
            b"data: ", b"\n", b"\r\n", b"\r", b":ping\n", b"event: x\n", b"[DONE]",
            b"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi \"}}]}", b"\xEF\xBB\xBF",
            b"{\"type\":\"message_start\"}", b"\xE2\x80", b"HTTP/1.1 200 OK\r\n\r\n",
        ];
        let (name, _) = SAMPLES[start];
        let body = sample(name);
        let mut input: Vec<u8> = body[..body.len() / 2].to_vec();
        for part in parts {
            input.extend_from_slice(BITS[part]);
        }
        let (whole_output, whole) = through_pipeline(&input, usize::MAX, true);
        proptest::prop_assert!(whole_output == input);
        let (output, found) = through_pipeline(&input, step, true);
        proptest::prop_assert!(output == input);
        proptest::prop_assert_eq!(found, whole);
    }
}

#[test]
fn each_choice_and_kind_is_counted_as_a_stream_of_its_own() {
    // Two choices (n = 2) interleaved, and a tool call's arguments.
    let chunk = |index: u32, delta: &str| {
        format!(
            "data: {{\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{{\"index\":{index},\"delta\":{delta}}}]}}\n\n"
        )
    };
    let mut body = String::new();
    for word in ["Hello", " there", " friend"] {
        body += &chunk(0, &format!("{{\"content\":\"{word}\"}}"));
        body += &chunk(1, &format!("{{\"content\":\"{word}\"}}"));
    }
    body += &chunk(
        0,
        r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Paris\"}"}}]}"#,
    );
    body += "data: [DONE]\n\n";
    let output = run(
        &["--input", "openai-chat", "-f", "json", "-s", "json"],
        body.as_bytes(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = crate::util::records(&output.stdout);
    let tokens = |choice: u64, kind: &str| -> u64 {
        records
            .iter()
            .filter(|r| r["choice"] == choice && r["kind"] == kind)
            .map(|r| r["tokens"].as_u64().unwrap())
            .sum()
    };
    // "Hello there friend" is 3 tokens in o200k_base, in each choice.
    assert_eq!(tokens(0, "text"), 3);
    assert_eq!(tokens(1, "text"), 3);
    assert!(tokens(0, "tool_arguments") > 0);
    let s = summary(&output);
    assert_eq!(
        s["total_tokens"].as_u64(),
        Some(6 + tokens(0, "tool_arguments"))
    );
}

#[test]
fn one_hour_cache_writes_pay_their_own_price() {
    // claude-sonnet-4-5: $3 input, $15 output, $3.75 5-minute and $6 1-hour
    // cache writes per 1M tokens.
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5-20250929\",",
        "\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":1200,",
        "\"cache_creation\":{\"ephemeral_5m_input_tokens\":200,\"ephemeral_1h_input_tokens\":1000},",
        "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    let output = run(&["--input", "auto", "-s", "json"], body.as_bytes());
    let s = summary(&output);
    let usage = &s["provider"]["usage"];
    assert_eq!(
        (
            usage["cache_write"].as_u64(),
            usage["cache_write_1h"].as_u64()
        ),
        (Some(200), Some(1000))
    );
    // 10 × 3 + 5 × 15 + 200 × 3.75 + 1000 × 6 = 6855 per 1M tokens.
    assert_eq!(s["total_cost"], "0.006855");
    assert_eq!(s["total_tokens"], 1215);
}

#[test]
fn ctrl_c_mid_stream_bills_the_deltas_delivered_and_marks_the_stream_cut() {
    use std::io::{Read, Write};
    let body = sample("anthropic.sse");
    let text = String::from_utf8(body.clone()).unwrap();
    let half = &body[..text.find("event: message_delta").unwrap()];
    let mut child = crate::util::spawn_piped(&["--input", "anthropic", "-s", "json"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(half).unwrap();
    // Every event written comes out before tokmeter waits for the next.
    let mut passed = vec![0; half.len()];
    stdout.read_exact(&mut passed).unwrap();
    assert!(passed == half);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    let s: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(s["error"], "interrupted by SIGINT");
    assert_eq!(s["provider"]["complete"], false);
    let counted = s["provider"]["counted_output_tokens"].as_u64().unwrap();
    assert!(counted > 0);
    assert_eq!(
        s["total_tokens"].as_u64(),
        Some(12 + counted),
        "never $0: {s}"
    );
}

#[test]
fn a_prompt_file_is_counted_and_one_that_cannot_be_read_is_refused() {
    let dir = crate::util::temp_dir("prompt");
    let prompt = dir.join("prompt.txt");
    let text = "What is the weather in San Francisco?";
    std::fs::write(&prompt, text).unwrap();
    // The same text metered as a stream, with the same tokenizer.
    let alone = summary(&run(&["-m", "gpt-4o", "-s", "json"], text.as_bytes()))["total_tokens"]
        .as_u64()
        .unwrap();
    let body = sample("openai-chat.sse");
    let path = prompt.to_str().unwrap();
    let output = run(
        &["--input", "openai-chat", "--prompt", path, "-s", "json"],
        &body,
    );
    assert_eq!(provider(&output)["prompt_tokens"].as_u64(), Some(alone));
    assert_eq!(summary(&output)["total_tokens"].as_u64(), Some(30 + alone));
    let missing = dir.join("missing.txt");
    let output = run(
        &[
            "--input",
            "openai-chat",
            "--prompt",
            missing.to_str().unwrap(),
        ],
        &body,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "refused before any input is read");
    crate::util::assert_one_error_line(&output, "--prompt: cannot read");
}
