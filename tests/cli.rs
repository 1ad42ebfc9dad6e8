//! A CLI that teaches: failed commands create nothing, secrets typed at a
//! terminal are not shown, empty lists say so, every option has a help line.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{TestPeer, MASTER_KEY};

fn postern(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postern"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTERN_PASSPHRASE")
        .output()
        .unwrap()
}

/// A home with a project and no key yet (as a new admin has it).
fn keyless_home(project: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(postern(dir.path(), &["project", "create", project]).status.success());
    dir
}

fn assert_failed_without_key(out: &Output, why: &str, home: &Path) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should have failed: {err}");
    assert!(err.contains(why), "{err}");
    assert!(!err.contains("Generated"), "{err}");
    assert!(!home.join("keys/own.key.asc").exists(), "a key was left behind");
    let list = postern(home, &["sync", "list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
}

#[test]
fn a_failed_create_leaves_no_key_and_no_sync() {
    let home = keyless_home("ACME");
    let h = home.path();
    let base = ["sync", "create", "--name", "a", "--sync-user", "s"];
    let out = postern(h, &[&base[..], &["--project", "NOPE"]].concat());
    assert_failed_without_key(&out, "project NOPE does not exist", h);
    let out = postern(h, &[&base[..], &["--project", "ACME", "--out", "/nonexistent/hs.json"]].concat());
    assert_failed_without_key(&out, "folder /nonexistent does not exist", h);
    let out = postern(h, &[&base[..], &["--project", "ACME", "--passphrase-out", "/nonexistent/pw"]].concat());
    assert_failed_without_key(&out, "folder /nonexistent does not exist", h);
    assert!(!h.join("hs.json").exists() && !h.join("a.handshake").exists());
}

/// A passphrase written to a file is not shown too (a script's output may
/// be kept in logs).
#[test]
fn a_passphrase_written_to_a_file_is_not_shown() {
    let home = keyless_home("ACME");
    let h = home.path();
    let file = h.join("pass.txt");
    let args = ["sync", "create", "--name", "a", "--sync-user", "s", "--project", "ACME", "--passphrase-out"];
    let hs = h.join("a.handshake.asc");
    let out = postern(h, &[&args[..], &[file.to_str().unwrap(), "--out", hs.to_str().unwrap()]].concat());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    let pass = std::fs::read_to_string(&file).unwrap();
    assert!(pass.trim().len() >= 20, "{pass}");
    assert!(!said.contains(pass.trim()), "{said}");
    assert!(said.contains("Passphrase:       written to"), "{said}");
}

#[test]
fn a_sync_needs_an_existing_home() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("nohome");
    let out = postern(&typo, &["sync", "create", "--name", "a", "--sync-user", "s", "--project", "ACME"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no postern home"));
    assert!(!typo.exists(), "a failed create made a home");
}

#[test]
fn a_failed_accept_leaves_no_key() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "s", "--json"]);
    let file = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let home = keyless_home("SP2");
    let h = home.path();
    let base = ["sync", "accept", "--file", file.to_str().unwrap(), "--sync-user", "c", "--yes"];
    let out = postern(h, &[&base[..], &["--passphrase", pass, "--project", "NOPE"]].concat());
    assert_failed_without_key(&out, "project NOPE does not exist", h);
    let out =
        postern(h, &[&base[..], &["--passphrase", "aaaaa-bbbbb-ccccc-ddddd-eeeee-fffff", "--project", "SP2"]].concat());
    assert_failed_without_key(&out, "passphrase", h);
    // And it works once the input is right.
    let out = postern(h, &[&base[..], &["--passphrase", pass, "--project", "SP2"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(h.join("keys/own.key.asc").exists());
}

/// `script` gives the command a terminal; what the terminal echoes shows
/// up in its output.
#[test]
fn a_passphrase_typed_at_a_terminal_is_not_shown() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "s", "--json"]);
    let file = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let home = keyless_home("SP2");
    let cmd = format!(
        "{} --home {} sync accept --file {} --project SP2 --sync-user c --yes",
        env!("CARGO_BIN_EXE_postern"),
        home.path().display(),
        file.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("POSTERN_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs the command on a terminal");
    let mut stdin = child.stdin.take().unwrap();
    // Typed after the prompt is up, as a person would.
    std::thread::sleep(std::time::Duration::from_millis(700));
    use std::io::Write;
    writeln!(stdin, "{pass}").unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Passphrase (not shown):"), "{text}");
    assert!(text.contains("Accepted sync 'acme'"), "the typed passphrase was not taken: {text}");
    assert!(!text.contains(&pass), "the passphrase was echoed: {text}");
}

#[test]
fn empty_lists_say_they_are_empty() {
    let home = keyless_home("ACME");
    let h = home.path();
    let said = |args: &[&str]| {
        let out = postern(h, args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(said(&["sync", "list"]), "no syncs in this home");
    assert_eq!(said(&["issue", "list", "--project", "ACME"]), "no issues in project ACME");
    assert_eq!(said(&["project", "list"]), "ACME\tACME\t0 issues");
    said(&["issue", "create", "--project", "ACME", "--summary", "one"]);
    assert_eq!(said(&["project", "list"]), "ACME\tACME\t1 issue");
    assert_eq!(said(&["attachment", "list", "ACME-1"]), "no attachments on issue ACME-1");
    // JSON stays machine-readable.
    assert_eq!(said(&["sync", "list", "--json"]), "[]");
}

/// `postern --help` lists the commands under headings, and they still run.
#[test]
fn the_commands_are_listed_under_headings() {
    let home = tempfile::tempdir().unwrap();
    let out = postern(home.path(), &["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    let headings = ["Syncing:", "Keys and mail:", "The embedded tracker:", "Trying and measuring:", "Packaging:"];
    let at: Vec<usize> = headings.iter().map(|h| help.find(h).unwrap_or_else(|| panic!("{h}\n{help}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "in order: {help}");
    assert!(help.contains("Usage: postern [OPTIONS] <COMMAND>"), "{help}");
    let sync = postern(home.path(), &["help", "sync"]);
    assert!(String::from_utf8_lossy(&sync.stdout).contains("Usage: postern sync"), "help <command> still works");
    let typo = postern(home.path(), &["synk"]);
    assert!(String::from_utf8_lossy(&typo.stderr).contains("a similar subcommand exists: 'sync'"));
}

/// Every option of every command explains itself in `--help`.
#[test]
fn every_option_has_a_help_line() {
    let home = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["sync", "create"],
        &["sync", "accept"],
        &["sync", "edit"],
        &["sync", "timing"],
        &["sync", "list"],
        &["status"],
        &["run"],
        &["mail", "test"],
        &["errors", "list"],
        &["issue", "create"],
        &["issue", "edit"],
        &["key", "export"],
        &["key", "rotate"],
        &["key", "import"],
        &["project", "create"],
        &["project", "list"],
        &["issue", "list"],
        &["issue", "show"],
        &["comment", "add"],
        &["comment", "edit"],
        &["attachment", "add"],
        &["attachment", "list"],
        &["attachment", "get"],
        &["errors", "retry"],
        &["sync", "export"],
        &["sync", "pause"],
        &["sync", "resume"],
        &["sync", "delete"],
        &["errors", "ignore-issue"],
        &["sync", "resync"],
        &["sync", "pair"],
        &["sync", "merge"],
        &["conflicts", "list"],
        &["conflicts", "reapply"],
        &["sync", "pending"],
        &["sync", "allow-mass-change"],
        &["sync", "unpair"],
        &["project", "edit"],
        &["generate", "man"],
        &["demo"],
        &["bench"],
    ];
    let mut missing = Vec::new();
    for cmd in commands {
        let out = postern(home.path(), &[cmd, &["--help"][..]].concat());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd:?}: {help}");
        // Examples' continuation lines start with options too.
        let lines: Vec<&str> = help.lines().take_while(|l| !l.starts_with("Examples:")).collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("--") || t.starts_with('-') && t.chars().nth(1).is_some_and(|c| c.is_alphabetic())) {
                continue;
            }
            if t.starts_with("-h, --help") || t.starts_with("-V, --version") {
                continue;
            }
            // Short form: `--x <X>  Text`; long form: the text on the next line.
            let same_line = t.split_once("  ").is_some_and(|(_, rest)| !rest.trim().is_empty());
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
            let explained = same_line || !next.is_empty() && !next.starts_with('-');
            if !explained {
                missing.push(format!("`postern {}`: {}", cmd.join(" "), t.trim()));
            }
        }
    }
    assert!(missing.is_empty(), "options without a help line:\n{}", missing.join("\n"));
}

/// `postern status | head -1`: a reader that stops early is not an error.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let home = keyless_home("ACME");
    let script = format!(
        "'{}' --home '{}' project list | true; echo \"status=${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_postern"),
        home.path().display()
    );
    let out = Command::new("bash").arg("-c").arg(&script).env("RUST_BACKTRACE", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("status=0"), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Man pages and completions come from the CLI's own definition: a page
/// per command, each with its options; completion scripts that name the
/// commands. (The Debian package ships them; `scripts/package-check.sh`
/// checks them installed.)
#[test]
fn man_pages_and_completions_are_made_from_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    let out = postern(dir.path(), &["generate", "man", man.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = |name: &str| std::fs::read_to_string(man.join(format!("{name}.1"))).unwrap_or_default();
    assert!(page("postern").contains("postern\\-sync(1)"), "the top page lists the commands");
    let create = page("postern-sync-create");
    assert!(create.contains("\\-\\-passphrase\\-out") && create.contains("postern sync create"), "{create}");
    assert!(!man.join("postern-help.1").exists(), "no page for clap's help");
    let bash = postern(dir.path(), &["generate", "completions", "bash"]);
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(bash.status.success() && script.contains("complete -F") && script.contains("verify"), "{script}");
    let bad = postern(dir.path(), &["generate", "completions", "tcsh"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values: bash"));
}
