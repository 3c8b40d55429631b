//! The README's curl walkthrough, run as written against the real binary (only the binary's
//! path and the port are substituted), so the newcomer's path cannot silently rot.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_turnero");

fn walkthrough() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme
        .split("## A walk through the API")
        .nth(1)
        .expect("walkthrough section");
    let section = section.split("\n## ").next().unwrap();
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("turnero listening on ")
        .unwrap()
        .to_string();

    let script = walkthrough()
        .replace("cargo run -q --release --", BIN)
        .replace("http://127.0.0.1:8080", &base);
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"start_local\""),
        "slots were listed: {stdout}"
    );
    assert!(stdout.contains("\"status\":\"confirmed\""), "{stdout}");
    assert!(stdout.contains("\"status\":\"canceled\""), "{stdout}");
    assert!(stdout.contains("\"action\":\"rescheduled\""), "{stdout}");
    assert!(stdout.contains("\"phone\":\"+5491122334455\""), "{stdout}");
    assert!(
        stdout.contains("\"type\":\"booking.canceled\""),
        "the event feed: {stdout}"
    );
    assert!(stdout.contains("\"totals\""), "webhook stats: {stdout}");
    assert!(
        stdout.contains("slot_001") && !stdout.contains("slot_002"),
        "AsisteClick availability: {stdout}"
    );
    assert!(
        stdout.contains("\"rule_id\"") && stdout.contains("\"no_answer\""),
        "a reminder rule's run and its report: {stdout}"
    );
    assert!(!stdout.contains("\"code\""), "no problem answers: {stdout}");
}
