//! The round-trip law of both dialects, over generated texts full of
//! what markup would read as markup.

use proptest::prelude::*;

use super::super::markdown::{blocks, Block};
use super::super::settings::Flavour;
use super::{from_jira, to_jira};

fn line() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z]{1,6}",
        Just(" ".to_string()),
        "[-*_{}\\[\\]|!?~^+&#\\\\.`>()]{1,3}",
        Just("**bold**".to_string()),
        Just("*em*".to_string()),
        Just("`co}de`".to_string()),
        Just("[t_x](https://e.com/a_b)".to_string()),
        Just("https://e.com/~u?q=1".to_string()),
        Just("h1. ".to_string()),
        Just("bq. ".to_string()),
        Just("- ".to_string()),
        Just("1. ".to_string()),
        Just("# ".to_string()),
        Just("> ".to_string()),
        Just("é".to_string()),
        Just(":)".to_string()),
        Just("(on)".to_string()),
        Just("&lt;".to_string()),
        Just("&#92;".to_string()),
        Just("\t".to_string()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

fn text() -> impl Strategy<Value = String> {
    let block = prop_oneof![
        prop::collection::vec(line(), 1..4).prop_map(|l| l.join("\n")),
        Just("```rust\nlet x = {y};\n\n```".to_string()),
        Just("---".to_string()),
        Just(String::new()),
    ];
    prop::collection::vec(block, 0..5).prop_map(|b| b.join("\n\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_crosses_both_dialects_unchanged(t in text()) {
        for flavour in [Flavour::DataCenter, Flavour::Cloud] {
            let written = to_jira(flavour, &t);
            prop_assert_eq!(from_jira(flavour, &written), t.clone(), "{:?}: {}", flavour, written);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10000, ..ProptestConfig::default() })]

    #[test]
    fn any_string_reads_without_failing_and_crosses_unchanged(t in "[^\r]{0,80}") {
        for flavour in [Flavour::DataCenter, Flavour::Cloud] {
            let written = to_jira(flavour, &t);
            prop_assert_eq!(from_jira(flavour, &written), t.clone(), "{:?}: {}", flavour, written);
            from_jira(flavour, &serde_json::json!(t));
        }
    }
}

fn wiki() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-zé ]{1,5}",
        "[-*_{}\\[\\]|!?~^+&#\\\\.:=~]{1,3}",
        Just("{code}".to_string()),
        Just("{code:java}".to_string()),
        Just("{noformat}".to_string()),
        Just("{quote}".to_string()),
        Just("{color:red}".to_string()),
        Just("{panel:title=x}".to_string()),
        Just("[~user]".to_string()),
        Just("[a|https://x.y]".to_string()),
        Just("!a.png|thumbnail!".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("h2. ".to_string()),
        Just("bq. ".to_string()),
        Just("|".to_string()),
        Just("||".to_string()),
        Just("&#92;".to_string()),
        Just("&#123;".to_string()),
        Just("&lt;".to_string()),
        Just(":)".to_string()),
        Just("(y)".to_string()),
        Just("\\.".to_string()),
        Just("  * ".to_string()),
        Just("{{{}".to_string()),
        Just("{}}}".to_string()),
    ];
    prop::collection::vec(token, 0..20).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// What a person wrote in Jira reads as text, whatever it is, and that
    /// text then crosses unchanged.
    #[test]
    fn any_wiki_markup_reads_as_text_that_then_crosses_unchanged(w in wiki()) {
        let text = from_jira(Flavour::DataCenter, &serde_json::json!(w));
        // Code that holds `{code` can be written only without a language
        // (in `{noformat}`), and not at all if it holds `{noformat}` too.
        let unwritable = blocks(&text).iter().any(|b| match b {
            Block::Code(lang, lines) => {
                let body = lines.join("\n");
                body.contains("{code") && (!lang.is_empty() || body.contains("{noformat}"))
            }
            _ => false,
        });
        if unwritable {
            return Ok(());
        }
        let again = to_jira(Flavour::DataCenter, &text);
        prop_assert_eq!(from_jira(Flavour::DataCenter, &again), text, "{}", w);
    }
}

/// Every ADF document postern writes, checked against Atlassian's own
/// JSON schema (npm `@atlaskit/adf-schema`, `dist/json-schema/v1/full.json`,
/// fetched by `scripts/jira-contract.sh`) with Python's `jsonschema`:
/// hand-picked edge cases and 3,000 generated texts. Prism cannot check
/// these: the REST spec leaves `fields` and a comment's `body` open.
#[test]
#[ignore = "needs Atlassian's ADF schema and python3-jsonschema: scripts/integration.sh"]
fn every_adf_document_written_passes_atlassians_schema() {
    use proptest::strategy::ValueTree;
    let dir = std::env::var("POSTERN_JIRA_CONTRACT").expect("POSTERN_JIRA_CONTRACT: where the schema is");
    let schema = std::path::Path::new(&dir).join("adf-full.json");
    assert!(schema.is_file(), "{} is missing: run scripts/jira-contract.sh install", schema.display());
    let hand = [
        "",
        "```\n```",
        "```rust\n\n```",
        "[x](javascript:alert(1))",
        "[](https://e.com)",
        "**[l](https://e.com)**",
        "* a\n* b",
        "1. one\n2. two",
        "> quoted\n> more",
        "# Title\n\ntext",
        "---",
        "a  \nb",
        "https://e.com/x_(y)",
        "`code` and **bold** and *em* and ~~gone~~",
        "\t",
        "é ü 日本",
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut docs: Vec<String> = hand.iter().map(|t| to_jira(Flavour::Cloud, t).to_string()).collect();
    for _ in 0..3000 {
        let t = text().new_tree(&mut runner).unwrap().current();
        docs.push(to_jira(Flavour::Cloud, &t).to_string());
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), docs.join("\n")).unwrap();
    let check = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.validators.validator_for(schema)(schema)
bad = 0
lines = open(sys.argv[2]).read().split("\n")
for n, line in enumerate(lines):
    errors = list(validator.iter_errors(json.loads(line)))
    if errors:
        bad += 1
        if bad <= 5:
            print(f"document {n}: {line[:400]}\n  {errors[0].message[:300]}")
print(f"{len(lines)} documents, {bad} invalid")
sys.exit(1 if bad else 0)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", check, schema.to_str().unwrap(), file.path().to_str().unwrap()])
        .output()
        .expect("python3");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    eprintln!("{}", said.trim());
}
