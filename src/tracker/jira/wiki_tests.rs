use super::super::wiki::to_wiki;
use super::from_wiki;

const RICH: &str = "# Crash on login\n\nSteps, with **care** and *emphasis*:\n\n1. open `app`\n2. see [the log](https://example.com/log) and https://example.com/x_y-z\n\n- one\n- *two*\n\n> quoted\n\n> quoted\n> twice\n\n```rust\nfn main() {\n\n    let a = 1;\n}\n```\n\n```\nplain {code} here\n```\n\n---\n\nEnd\nof it";

#[test]
fn each_form_is_written_as_wiki_markup_and_read_back() {
    let wiki = to_wiki(RICH);
    assert_eq!(
        wiki,
        "h1. Crash on login\n\nSteps, with *care* and _emphasis_:\n\n# open {{app}}\n# see [the log|https://example.com/log] and https://example.com/x_y-z\n\n* one\n* _two_\n\nbq. quoted\n\n{quote}\nquoted\ntwice\n{quote}\n\n{code:rust}\nfn main() {\n\n    let a = 1;\n}\n{code}\n\n{noformat}\nplain {code} here\n{noformat}\n\n----\n\nEnd\nof it"
    );
    assert_eq!(from_wiki(&wiki), RICH);
}

#[test]
fn plain_text_that_looks_like_markup_is_escaped_and_reads_back() {
    for (text, wiki) in [
        ("2 * 3 * 4, a*b, snake_case_name", "2 * 3 * 4, a*b, snake_case_name"),
        ("*not a list\n# not numbered\n- not a bullet", "\\*not a list\n\\# not numbered\n\\- not a bullet"),
        ("h1. not a heading\nbq. not a quote\n----", "h1&#46; not a heading\nbq&#46; not a quote\n\\-\\-\\--"),
        ("  # indented\n\th2.x", "  \\# indented\n\th2&#46;x"),
        ("{code} [link] a|b !img! ??cite??", "&#123;code&#125; \\[link\\] a\\|b \\!img! \\??cite\\??"),
        ("fine :) (y) a:)b x(on)", "fine \\:) \\(y) a:)b x\\(on)"),
        ("`{x}` a`b`c &lt; &amp x", "{{&#123;x&#125;}} a{{{}b{}}}c &amp;lt; &amp x"),
        ("C:\\Users\\me and a\\*b and \\\\", "C:\\Users\\me and a&#92;\\*b and &#92;&#92;"),
        ("-struck- +under+ ^sup^ ~sub~ well-known a - b", "\\-struck- \\+under+ \\^sup^ \\~sub~ well-known a - b"),
        ("a**b**c and **x** y", "a{*}b{*}c and *x* y"),
        ("3. third\n4. fourth", "3. third\n4. fourth"),
        ("&#92; stays", "&amp;#92; stays"),
    ] {
        assert_eq!(to_wiki(text), wiki, "{text}");
        assert_eq!(from_wiki(wiki), text, "{wiki}");
    }
}

#[test]
fn what_a_person_writes_in_jira_reads_as_its_closest_form() {
    let wiki = "h2. Report\nSteps:\n# open\n## nested\n# close\n* a\n** b\n\n||Key||Value||\n|x|1|\n\n{code:title=Main.java|language=java}\nclass A {}\n{code}\nMention [~jsmith] and [~accountid:5b10] see [^log.txt] !shot.png|thumbnail!\n{color:red}red{color} -strike- line\\\\break &lt;tag&gt; a\\.b\n{panel:title=Note}\ninside\n{panel}\n{quote}\nwise\n{quote}\n  * indented\nh3.Tight";
    assert_eq!(
        from_wiki(wiki),
        "## Report\n\nSteps:\n\n1. open\n2. nested\n3. close\n\n- a\n- b\n\nKey | Value\nx | 1\n\n```java\nclass A {}\n```\n\nMention @jsmith and @5b10 see [attachment: log.txt] [attachment: shot.png]\nred -strike- line\nbreak <tag> a\\.b\n\ninside\n\n> wise\n\n- indented\n\n### Tight"
    );
}

#[test]
fn code_blocks_keep_their_blank_lines_and_empty_bodies() {
    for text in ["```\n```", "```\n\n```", "```sh\n\n\nx\n\n```", "a\n\n```\n{noformat}\n```\n\nb"] {
        assert_eq!(from_wiki(&to_wiki(text)), text, "{}", to_wiki(text));
    }
}
