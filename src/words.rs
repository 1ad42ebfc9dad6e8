//! Counts in words, for every layer that talks to the admin (CLI,
//! console, daemon log): "1 issue", "2 issues", never "issue(s)".

/// `n` with `one` or `many`: "1 issue", "2 issues".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::plural(1, "issue", "issues"), "1 issue");
        assert_eq!(super::plural(0, "issue", "issues"), "0 issues");
        assert_eq!(super::plural(2, "pairing", "pairings"), "2 pairings");
    }
}
