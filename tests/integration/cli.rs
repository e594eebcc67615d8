//! The command line: one-line errors with the right exit codes, help, and a
//! man page that documents every visible flag.

use clap::CommandFactory;

/// The flags' definitions, as the binary compiles them.
#[allow(dead_code)]
#[path = "../../src/app/args.rs"]
mod args;
#[allow(dead_code)]
#[path = "../../src/app/commands.rs"]
mod commands;

use crate::util::{assert_one_error_line, run, tokmeter};

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--no-such-flag"], "--no-such-flag"),
        (&["-f", "xml"], "xml"),
        (&["--max-chunk", "0"], "--max-chunk"),
        (&["-d", "\\q"], "--delimiter"),
        (&["-d", ""], "--delimiter"),
        (&["--meta", "novalue"], "--meta"),
        (&["--arrival", "--strip-delimiter"], "--strip-delimiter"),
        (&["-z", "--arrival"], "--arrival"),
    ];
    for (args, needle) in cases {
        let output = run(args, b"hello\n");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?} wrote output");
        assert_one_error_line(&output, needle);
    }
}

#[test]
fn reading_a_directory_is_a_runtime_error() {
    let output = run(&["-s", "none", "/"], b"");
    assert_eq!(output.status.code(), Some(1));
    assert_one_error_line(&output, "/");
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["--help"], b"");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("--tokenizer") && text.contains("COMMAND | tokmeter"));
    let version = run(&["--version"], b"");
    assert_eq!(version.status.code(), Some(0));
    assert!(
        String::from_utf8(version.stdout)
            .unwrap()
            .starts_with("tokmeter ")
    );
}

#[test]
fn man_page_documents_every_visible_flag() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/tokmeter.1"))
        .expect("man/tokmeter.1");
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "EXIT STATUS",
        "EXAMPLES",
        "FILES",
        "ENVIRONMENT",
    ] {
        assert!(
            page.contains(&format!(".SH {section}"))
                || page.contains(&format!(".SH \"{section}\"")),
            "section {section}"
        );
    }
    let command = args::Args::command();
    for sub in command.get_subcommands() {
        assert!(
            page.contains(&format!("tokmeter {}", sub.get_name())),
            "subcommand {} is not in man/tokmeter.1",
            sub.get_name()
        );
    }
    let arguments = command.get_arguments().chain(
        command
            .get_subcommands()
            .flat_map(|sub| sub.get_arguments()),
    );
    for arg in arguments.filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(page.contains(&roff), "--{long} is not in man/tokmeter.1");
        }
        if let Some(short) = arg.get_short() {
            assert!(
                page.contains(&format!("\\-{short}")),
                "-{short} is not in man/tokmeter.1"
            );
        }
    }
}

#[test]
fn negative_max_tokens_names_the_value() {
    let output = tokmeter().args(["--max-tokens", "-1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "invalid value '-1' for '--max-tokens");
    assert_one_error_line(&output, "must be a whole number >= 0");
}

#[test]
fn option_before_merge_is_a_usage_error_not_a_file() {
    let output = tokmeter()
        .args(["-s", "text", "merge", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_error_line(&output, "tokmeter merge -s text FILE");
}

#[test]
fn file_names_are_escaped_in_error_and_summary_lines() {
    let dir = crate::util::temp_dir("hostile-names");
    let name = "evil\nname\u{1b}[31m";
    let present = dir.join(name);
    std::fs::write(&present, "hi\n").unwrap();
    let missing = dir.join(format!("missing-{name}"));
    let output = crate::util::tokmeter()
        .arg(&present)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stderr.contains('\u{1b}'),
        "a raw escape reached stderr: {stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    // The summary of the file, the error of the missing one, the total.
    assert_eq!(lines.len(), 3, "{stderr:?}");
    assert!(lines[0].contains(r"evil\nname\u{1b}[31m: "), "{stderr:?}");
    assert!(
        lines[1].starts_with("tokmeter: cannot open ") && lines[1].contains(r"missing-evil\nname")
    );
}

/// `-q` silences warnings, not errors nor the summary; `merge -q` too.
#[test]
fn quiet_silences_warnings_only() {
    let warned = run(&["-m", "no-such-model", "--unknown-model", "zero"], b"hi\n");
    let stderr = String::from_utf8(warned.stderr).unwrap();
    assert!(stderr.contains("tokmeter: warning: model"), "{stderr}");
    let quiet = run(
        &["-q", "-m", "no-such-model", "--unknown-model", "zero"],
        b"hi\n",
    );
    assert_eq!(quiet.stdout, b"hi\n");
    let stderr = String::from_utf8(quiet.stderr).unwrap();
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stderr.starts_with("tokmeter: 1 token"), "{stderr}");
    let error = run(&["--quiet", "-m", "no-such-model"], b"hi\n");
    assert_eq!(error.status.code(), Some(2));
    assert_one_error_line(&error, "unknown model");

    let ledger = std::env::temp_dir().join(format!("tokmeter-quiet-{}.jsonl", std::process::id()));
    let summary = run(&["-s", "json"], b"hi\n").stderr;
    std::fs::write(&ledger, summary).unwrap();
    let path = ledger.to_str().unwrap();
    let twice = run(&["merge", path, path], b"");
    assert!(String::from_utf8_lossy(&twice.stderr).contains("warning: "));
    let quiet = run(&["merge", "-q", path, path], b"");
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let _ = std::fs::remove_file(&ledger);
}

/// `-h` groups its options under headings and fits a screen of 66 lines;
/// `--help` has the same headings; `--list-models` marks the default model.
#[test]
fn help_groups_options_and_names_the_default_model() {
    let headings = [
        "Input:",
        "Pricing:",
        "Output:",
        "Counting:",
        "Streams:",
        "Budgets:",
        "Transcripts and logs:",
        "Summary:",
    ];
    for flag in ["-h", "--help"] {
        let help = String::from_utf8(run(&[flag], b"").stdout).unwrap();
        for heading in headings {
            assert!(
                help.lines().any(|line| line == heading),
                "{flag}: {heading}"
            );
        }
        assert!(
            help.contains("gpt-4o in the built-in table") || flag == "-h",
            "{flag}"
        );
        if flag == "-h" {
            assert!(help.lines().count() <= 66, "{}", help.lines().count());
        }
    }
    let models = String::from_utf8(run(&["--list-models"], b"").stdout).unwrap();
    let marked: Vec<&str> = models
        .lines()
        .filter(|line| line.contains("(default)"))
        .collect();
    assert_eq!(marked.len(), 1, "{models}");
    assert!(marked[0].starts_with("gpt-4o (default) "), "{}", marked[0]);
}
