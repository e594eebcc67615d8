//! What the user reads: the rendered man page, --help and README.

use crate::util::run_ok;

fn rendered_man_page() -> String {
    let output = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/man/tokmeter.1"))
        .output()
        .expect("groff is installed (.ci/run installs it)");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn man_page_renders_delimiter_escapes_as_typed() {
    let page = rendered_man_page();
    assert!(
        page.contains(r"\n \t \r \0 \\ \xHH"),
        "the escapes of --delimiter are not shown as typed"
    );
    assert!(page.contains(r"-d '\0'"), "the -z equivalent");
    assert!(!page.contains(r"\en"), "an escape rendered with a stray e");
}

#[test]
fn help_and_readme_describe_behaviour_not_history() {
    let help = String::from_utf8(run_ok(&["--help"], b"").stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let page = rendered_man_page();
    for (name, text) in [
        ("--help", &help),
        ("README.md", &readme),
        ("man page", &page),
    ] {
        for word in ["the origin", "origin's", "grew from"] {
            assert!(!text.contains(word), "{name} says {word:?}");
        }
    }
}
