//! A mapping file checked (every name where the file says, each against
//! what the tracker has) and described (for `sync create|accept|edit`
//! and `status`).

use std::collections::BTreeMap;

use toml::Spanned;

use super::{place, Mapping, Table};
use crate::tracker::Vocabulary;

impl Mapping {
    pub(super) fn err(&self, at: &Spanned<String>, what: String) -> anyhow::Error {
        anyhow::anyhow!("{}: {what}", place(&self.text, at.span().start))
    }

    pub(super) fn sections(&self) -> [(&'static str, &Table, &Table); 4] {
        let (f, s) = (&self.file, &self.file.send);
        [
            ("status", &f.status, &s.status),
            ("priority", &f.priority, &s.priority),
            ("type", &f.types, &s.types),
            ("fields", &f.fields, &s.fields),
        ]
    }

    pub(super) fn check(&self) -> anyhow::Result<()> {
        fn empty(t: &Table) -> Option<(&String, &Spanned<String>)> {
            t.iter().find(|(k, v)| k.trim().is_empty() || v.get_ref().trim().is_empty())
        }
        for (name, table, send) in self.sections() {
            for t in [table, send] {
                if let Some((k, v)) = empty(t) {
                    return Err(
                        self.err(v, format!("[{name}] maps {k:?} to {:?}: names must not be empty", v.get_ref()))
                    );
                }
            }
            // Several of the partner's names map to one of ours: which one
            // ours sends must be said.
            let mut from: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (theirs, ours) in table {
                from.entry(ours.get_ref()).or_default().push(theirs);
            }
            for (theirs, ours) in table {
                let all = &from[ours.get_ref().as_str()];
                if all.len() > 1 && !send.contains_key(ours.get_ref()) && all.last() == Some(&theirs.as_str()) {
                    return Err(self.err(
                        ours,
                        format!(
                            "[{name}] maps {} to {:?}: say which one {:?} sends, in [send.{name}] (e.g. {:?} = {:?})",
                            all.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(" and "),
                            ours.get_ref(),
                            ours.get_ref(),
                            ours.get_ref(),
                            all[0]
                        ),
                    ));
                }
            }
            for (ours, theirs) in send {
                if table.get(theirs.get_ref()).is_none_or(|o| o.get_ref() != ours) {
                    return Err(self.err(
                        theirs,
                        format!(
                            "[send.{name}] sends {ours:?} as {:?}, but [{name}] does not map {:?} to {ours:?}",
                            theirs.get_ref(),
                            theirs.get_ref()
                        ),
                    ));
                }
            }
        }
        if let Some((k, v)) = empty(&self.file.users.table) {
            return Err(self.err(v, format!("[users.table] maps {k:?} to {:?}: names must not be empty", v.get_ref())));
        }
        if let Some(f) = self.file.users.fallback.as_ref().filter(|f| f.get_ref().trim().is_empty()) {
            return Err(self.err(f, "[users] fallback must name a user".into()));
        }
        Ok(())
    }

    /// Checks that every name of ours the file uses is one the tracker
    /// knows (where it says what it knows).
    pub fn check_against(&self, v: &Vocabulary) -> anyhow::Result<()> {
        let lists =
            [("status", &v.statuses), ("priority", &v.priorities), ("type", &v.types), ("fields", &v.custom_fields)];
        for ((name, table, _), (_, known)) in self.sections().into_iter().zip(lists) {
            let Some(known) = known else { continue };
            for (theirs, ours) in table {
                if !known.contains(ours.get_ref()) {
                    return Err(self.err(
                        ours,
                        format!(
                            "[{name}] maps {theirs:?} to {:?}, which this tracker does not have (it has: {})",
                            ours.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        if let Some(users) = &v.users {
            let known = |n: &str| users.iter().any(|u| u.name == n || u.id.as_deref() == Some(n));
            let listed = self.file.users.table.values().chain(self.file.users.fallback.as_ref());
            for u in listed {
                if !known(u.get_ref()) {
                    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
                    return Err(self.err(
                        u,
                        format!("user {:?} is not a user of this tracker (it has: {})", u.get_ref(), names.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether users are matched as without a file (by address and name).
    pub fn is_default_users(&self) -> bool {
        self.file.users.by_email && self.file.users.fallback.is_none() && self.file.users.table.is_empty()
    }

    /// One line for `status`: what the file maps.
    pub fn summary(&self) -> String {
        let f = &self.file;
        let mut parts: Vec<String> = [
            ("status", "statuses", f.status.len()),
            ("priority", "priorities", f.priority.len()),
            ("type", "types", f.types.len()),
            ("custom field", "custom fields", f.fields.len()),
            ("user", "users", f.users.table.len()),
            ("transition screen field", "transition screen fields", f.screens.len()),
        ]
        .iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(one, many, n)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
        if let Some(fb) = &f.users.fallback {
            parts.push(format!("fallback user {}", fb.get_ref()));
        }

        if parts.is_empty() {
            "no names mapped".into()
        } else {
            parts.join(", ")
        }
    }

    /// The tables themselves, partner's name = ours, as `status` shows
    /// them: `statuses Done=Closed, Open=New; users vera=Alice Admin`.
    pub fn tables(&self) -> String {
        let f = &self.file;
        let pairs = |t: &Table| t.iter().map(|(k, v)| format!("{k}={}", v.get_ref())).collect::<Vec<_>>().join(", ");
        let mut parts: Vec<String> = [
            ("statuses", &f.status),
            ("priorities", &f.priority),
            ("types", &f.types),
            ("custom fields", &f.fields),
            ("users", &f.users.table),
            ("transition screens", &f.screens),
        ]
        .iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(name, t)| format!("{name} {}", pairs(t)))
        .collect();
        if let Some(fb) = &f.users.fallback {
            parts.push(format!("fallback user {}", fb.get_ref()));
        }
        if !f.users.by_email {
            parts.push("users not matched by e-mail".into());
        }
        if parts.is_empty() {
            "no names mapped".into()
        } else {
            parts.join("; ")
        }
    }

    /// A note when matching users by address cannot find most of them:
    /// the tracker shows no address for some (Jira Cloud hides them
    /// unless each user allows it).
    pub fn hidden_addresses(&self, users: Option<&[crate::tracker::User]>) -> Option<String> {
        let users = users?;
        let hidden = users.iter().filter(|u| u.email.is_none()).count();
        (self.file.users.by_email && hidden > 0).then(|| {
            format!(
                "{hidden} of {} users of the tracker show no e-mail address (Jira Cloud hides them unless each \
                 user allows it): matching by e-mail finds only the others; name the rest in [users.table] \
                 (\"partner's address\" = \"our display name\", or \"accountid:…\" where names repeat)",
                users.len()
            )
        })
    }
}
