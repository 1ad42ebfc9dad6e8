//! Listing what moved, the rule both remote backends keep: the cursor
//! never passes a change that was not listed.
//!
//! A tracker lists "updated at or after T, oldest first" in pages. With
//! offsets (or a page token over a live order), an issue updated while
//! the pages are read moves to the end of the order, and the issue after
//! it slides onto a page already read: never listed, and the cursor then
//! passes it (a new issue skipped so is never seen again; no rescan knows
//! it). So each page is asked again from the last `updated` read (rounded
//! down to the tracker's grain: Redmine's seconds, JQL's minutes), and
//! an offset or token carries on only within one grain holding more than
//! a page. What is listed twice is kept once, at its latest `updated`.

use crate::tracker::TResult;

/// One issue as a listing gave it: `updated` in ms, and whatever the
/// backend keeps of its row.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<R> {
    pub key: String,
    pub updated: i64,
    pub row: R,
}

/// Every issue updated at or after `since` (ms), oldest first. `page(from,
/// next)` lists from `from` (rounded down to `grain` ms by the tracker's
/// query), continuing at `next` (an offset or a token) when given; it
/// returns the rows and, when more follow, where the next page starts.
pub fn anchored<R, N>(
    since: i64,
    grain: i64,
    mut page: impl FnMut(i64, Option<N>) -> TResult<(Vec<Listed<R>>, Option<N>)>,
) -> TResult<Vec<Listed<R>>> {
    let mut out: Vec<Listed<R>> = Vec::new();
    let (mut from, mut next) = (since, None);
    loop {
        let (rows, more) = page(from, next.take())?;
        let last = rows.last().map(|r| r.updated);
        for r in rows {
            match out.iter_mut().find(|o| o.key == r.key) {
                Some(known) if known.updated <= r.updated => *known = r,
                Some(_) => {}
                None => out.push(r),
            }
        }
        let (Some(more), Some(last)) = (more, last) else {
            out.sort_by_key(|r| r.updated);
            return Ok(out);
        };
        // A later grain: ask again from it (its issues are read again, and
        // known). The same grain all through: carry on within it.
        if last.div_euclid(grain) > from.div_euclid(grain) {
            from = last;
        } else {
            next = Some(more);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tracker's issues (key, updated in s) listed by offset, pages of 3.
    struct Server(Vec<(String, i64)>);

    impl Server {
        fn page(&self, from: i64, offset: usize) -> (Vec<Listed<()>>, Option<usize>) {
            let mut order: Vec<&(String, i64)> = self.0.iter().filter(|(_, t)| *t >= from / 1000 * 1000).collect();
            order.sort_by_key(|(k, t)| (*t, k.clone()));
            let rows: Vec<Listed<()>> = order
                .iter()
                .skip(offset)
                .take(3)
                .map(|(k, t)| Listed { key: k.clone(), updated: *t, row: () })
                .collect();
            let more = (offset + rows.len() < order.len()).then_some(offset + rows.len());
            (rows, more)
        }
    }

    fn keys(l: &[Listed<()>]) -> Vec<&str> {
        l.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn an_issue_moved_between_pages_hides_no_other() {
        let server = std::cell::RefCell::new(Server((1..=7).map(|n| (format!("i{n}"), n * 1000)).collect()));
        let mut calls = 0;
        let got = anchored(0, 1000, |from, next: Option<usize>| {
            calls += 1;
            if calls == 2 {
                // A person updates i1 (on the page already read).
                server.borrow_mut().0[0].1 = 9000;
            }
            Ok(server.borrow().page(from, next.unwrap_or(0)))
        })
        .unwrap();
        assert_eq!(
            keys(&got),
            ["i2", "i3", "i4", "i5", "i6", "i7", "i1"],
            "i4 slid onto page one: listed all the same"
        );
        assert_eq!(got.last().unwrap().updated, 9000, "i1 at its latest time");
        // By offset alone, i4 is lost: what the anchor prevents.
        let server = Server((1..=7).map(|n| (format!("i{n}"), n * 1000)).collect());
        let (first, _) = server.page(0, 0);
        let mut moved = server;
        moved.0[0].1 = 9000;
        let (second, _) = moved.page(0, 3);
        assert!(![first, second].concat().iter().any(|r| r.key == "i4"));
    }

    #[test]
    fn a_grain_holding_more_than_a_page_is_read_on_by_offset() {
        let server = Server((1..=8).map(|n| (format!("i{n}"), if n <= 7 { 5000 } else { 6000 })).collect());
        let mut asked = Vec::new();
        let got = anchored(5000, 1000, |from, next: Option<usize>| {
            asked.push((from, next));
            Ok(server.page(from, next.unwrap_or(0)))
        })
        .unwrap();
        assert_eq!(keys(&got), ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]);
        assert_eq!(asked, [(5000, None), (5000, Some(3)), (5000, Some(6))], "no page asked twice");
    }

    #[test]
    fn a_later_grain_starts_the_next_page_and_what_is_read_again_is_kept_once() {
        let server = Server(
            [("a", 1000), ("b", 2000), ("c", 3000), ("d", 3000), ("e", 4000)].map(|(k, t)| (k.to_string(), t)).into(),
        );
        let mut asked = Vec::new();
        let got = anchored(0, 1000, |from, next: Option<usize>| {
            asked.push((from, next));
            Ok(server.page(from, next.unwrap_or(0)))
        })
        .unwrap();
        assert_eq!(keys(&got), ["a", "b", "c", "d", "e"]);
        assert_eq!(asked, [(0, None), (3000, None)]);
    }
}
