//! `tokmeter completions SHELL`: each shell's script, and bash's loaded by a
//! real bash.

use crate::util::{BIN, assert_one_error_line, run, run_ok};

#[test]
fn every_shell_gets_a_script_naming_the_command_and_its_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run_ok(&["completions", shell], b"");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        assert!(script.contains("tokmeter"), "{shell}: no tokmeter");
        // fish writes a long flag as `-l tokenizer`, the others in full.
        for flag in ["tokenizer", "max-cost"] {
            assert!(
                script.contains(&format!("--{flag}")) || script.contains(&format!("-l {flag}")),
                "{shell}: no --{flag}"
            );
        }
        // The subcommands are completed too.
        assert!(script.contains("merge"), "{shell}: no merge");
        assert!(output.stderr.is_empty(), "{shell}: wrote to stderr");
    }
}

#[test]
fn bash_loads_its_script() {
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("bash is not installed: the script is not loaded");
        return;
    }
    let script = format!("source <('{BIN}' completions bash) && complete -p tokmeter");
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bash could not load the script: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty(), "{output:?}");
    assert!(
        stdout.starts_with("complete ") && stdout.trim_end().ends_with(" tokmeter"),
        "{stdout:?}"
    );
    // The function bash registered completes a flag.
    let complete = format!(
        "source <('{BIN}' completions bash) && COMP_WORDS=(tokmeter --tokeni) COMP_CWORD=1 \
         COMP_LINE='tokmeter --tokeni' COMP_POINT=17 && _tokmeter tokmeter --tokeni tokmeter \
         && printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &complete])
        .output()
        .unwrap();
    let replies = String::from_utf8_lossy(&output.stdout);
    assert!(
        replies.lines().any(|line| line == "--tokenizer"),
        "{replies:?} {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = run(&["completions", "tcsh"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert_one_error_line(&output, "tcsh");
    let missing = run(&["completions"], b"");
    assert_eq!(missing.status.code(), Some(2));
    assert_one_error_line(&missing, "<SHELL>");
}
