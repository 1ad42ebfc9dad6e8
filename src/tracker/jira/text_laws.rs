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
