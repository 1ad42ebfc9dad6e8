//! The user guide stays true: every message `docs/troubleshooting.md`
//! quotes is one the program says (its fixed parts, between `…`, appear
//! in the program's texts); every page of `docs/` is reachable from the
//! index; every link between the README and the pages points at a page
//! and a heading that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The program's source as its strings read: a line continuation (`\`,
/// newline, indentation) joins, `\"` is a quote.
fn program_text() -> String {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut all = String::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut joined = String::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            match line.strip_suffix('\\') {
                Some(head) if lines.peek().is_some() => {
                    joined.push_str(head);
                    let next = lines.next().unwrap().trim_start();
                    joined.push_str(next);
                    // A continued line may continue again.
                    while joined.ends_with('\\') && lines.peek().is_some() {
                        joined.pop();
                        joined.push_str(lines.next().unwrap().trim_start());
                    }
                    joined.push('\n');
                }
                _ => {
                    joined.push_str(line);
                    joined.push('\n');
                }
            }
        }
        all.push_str(&joined.replace("\\\"", "\""));
    }
    all
}

/// The lines of the ```text blocks of a page.
fn quoted(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in page.lines() {
        if line.starts_with("```") {
            inside = line == "```text";
            continue;
        }
        if inside && !line.trim().is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

#[test]
fn every_troubleshooting_message_is_one_the_program_says() {
    let page = std::fs::read_to_string(root().join("docs/troubleshooting.md")).unwrap();
    let program = program_text();
    let messages = quoted(&page);
    assert!(messages.len() >= 20, "the page quotes the messages: {}", messages.len());
    let mut missing = Vec::new();
    for m in &messages {
        for part in m.split('…').map(str::trim).filter(|p| p.len() >= 6) {
            if !program.contains(part) {
                missing.push(format!("{part:?}\n    (from {m:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "not said by the program (reworded?):\n{}", missing.join("\n"));
}

/// GitHub's anchor for a heading: lower case, spaces to '-', most
/// punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(page: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in page.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// `(target)` of every `[text](target)` outside code.
fn links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in page.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn every_page_is_in_the_index_and_every_link_lands() {
    let docs = root().join("docs");
    let index = std::fs::read_to_string(docs.join("README.md")).unwrap();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&docs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    for p in &pages {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name == "README.md" || index.contains(&format!("]({name})")), "{name} is not in docs/README.md");
    }
    let mut broken = Vec::new();
    for page in pages.iter().chain([&root().join("README.md")]) {
        let text = std::fs::read_to_string(page).unwrap();
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (file, frag) = target.split_once('#').unwrap_or((&target, ""));
            let dest = if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            if !dest.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
                continue;
            }
            if !frag.is_empty() && dest.extension().is_some_and(|x| x == "md") {
                let there = anchors(&std::fs::read_to_string(&dest).unwrap());
                if !there.contains(frag) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README's first sync on one machine, run as written (the binary
/// under test for `postern`, a fresh folder for /tmp/pd): the vendor's
/// issue arrives on the customer's side.
#[test]
fn the_readmes_first_sync_works_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```sh\nV() {").expect("the first-sync block") + "```sh\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let script = block
        .replace("postern --home", &format!("{} --home", env!("CARGO_BIN_EXE_postern")))
        .replace("/tmp/pd", dir.path().to_str().unwrap());
    let out = std::process::Command::new("bash")
        .args(["-euc", &script])
        .env_remove("POSTERN_HOME")
        .env_remove("POSTERN_PASSPHRASE")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let last = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("SP2-1") && last.ends_with("Login fails"), "{said}");
}
