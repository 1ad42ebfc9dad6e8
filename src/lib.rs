//! postern keeps the issues of two trackers in sync when the two sides
//! cannot reach each other: each side runs a peer next to its tracker, and
//! the peers exchange signed, encrypted, numbered change messages through
//! SEND/RECEIVE folders or IMAP/SMTP mailboxes.
//!
//! # Layout
//!
//! - [`home`]: a peer's folder: `postern.db`, `keys/`, `exchange/`.
//! - [`clock`] (milliseconds since the epoch, as stored) and [`secret`]
//!   (where a password, token or key comes from: the settings, the
//!   environment, a file, a systemd credential; never in `Debug`).
//! - [`protocol`]: the wire format, pure: [`protocol::Envelope`] (sync,
//!   sender, recipient, sequence number, acknowledgement, body), the
//!   [`protocol::Change`] kinds, file names, receive-side ordering, and
//!   the MIME entity a mail's decrypted data is (`protocol::entity`).
//! - [`crypto`]: OpenPGP with sequoia (pure-Rust backend): keys, sealing
//!   (sign then encrypt) and opening (decrypt then verify) messages, the
//!   passphrase-protected handshake file.
//! - [`store`]: SQLite state: syncs, outbox, held messages, issue,
//!   comment and attachment links, per-issue errors and parked changes,
//!   quarantine log, parts of large changes, attachment `transfers`, IMAP
//!   positions, and where
//!   things that arrived were first made (`origins`).
//! - [`tracker`]: the [`tracker::Tracker`] plug point, in two halves,
//!   [`tracker::Reads`] and [`tracker::Writes`] (no access to postern's
//!   database; typed outcomes: refused, unavailable, failed; an opaque
//!   cursor), chosen per sync ([`tracker::AnyTracker`]; a wrapper such as
//!   it or the apply journal says what it wraps and its calls are
//!   forwarded once, in `tracker::backend`), one room
//!   per backend: `tracker::embedded` (the SQLite tracker: issues, its
//!   change log, comments, attachments, worklogs and its user directory,
//!   its own migrations in `schema`), built on the engine's transaction, and
//!   Redmine over REST (`tracker::redmine`: `api` sorts answers into
//!   outcomes, `meta` and the name tables, `issue` reads journals,
//!   `custom` fields by name, `shapes` of their values (several values,
//!   a list's values, ids that stand for users, versions and keys), the
//!   sync user's `permissions`, `time` entries as worklogs, `write` applies a
//!   partner's change, `detect` finds changes by state) and Jira (`tracker::jira`: Cloud's ADF and Data
//!   Center's wiki markup from one Markdown reading, JQL windows, the
//!   `workflow` walked to a status several transitions away) and GitHub
//!   Issues (`tracker::github`: `api` reads conditionally with `ETag`s and
//!   waits out GitHub's limits, `app` signs in as a GitHub App, `read`
//!   and `write` map issues, comments and the hidden write marks,
//!   `detect` reads `since` windows). A value a tracker cannot hold
//!   (outside a list) is not a refusal: the rest is written, and
//!   `Reads::take_not_held` says what was left out; a part it cannot
//!   hold at all (GitHub: files, logged time) is `Refusal::NotCarried`;
//!   the engine lists both on the issue without holding its changes back.
//!   What the remote backends share is `tracker::remote`: `listing` (pages
//!   anchored at the last time read: the cursor never passes a change it
//!   did not list), `cursor` (a time window and what was read in its
//!   overlap), `detect` (one detection round), `diff` (what someone other
//!   than the sync user changed) and `state` (what was last seen or
//!   written). Every backend checks worklogs and dates the same way
//!   (`checks`) and hashes and checks files the same way (`attachments`).
//! - [`transport`]: the [`transport::Transport`] plug point, the
//!   SEND/RECEIVE folder transport and the mail transport (SMTP out with
//!   lettre, IMAP in with async-imap, OpenPGP/MIME, UIDVALIDITY/UID
//!   position, IDLE).
//! - [`engine`]: a [`engine::Peer`] and its cycle: collect, receive, send;
//!   applying changes (`arrivals`: the same issue come by two paths is
//!   paired, not copied; `not_held`: a change written in part is listed
//!   on its issue and kept for a retry); changes split into parts to fit
//!   the message size limit; `snapshots` (what an issue, comment, worklog or
//!   attachment looks like to the partner); `transfers` (attachments over
//!   1 MiB streamed through a
//!   spool file in chunk messages, in bounded memory); the handshake; key rotation; the apply `journal` that
//!   keeps writes to a tracker outside postern's transaction exactly once;
//!   `tracker_of` (a sync's tracker, its settings with what the mapping
//!   file adds); the admin's tools: `resync` (an issue's state, not its history, and
//!   the existing issues chosen at the start), `records` (Backbone's
//!   synchronized-issue JSON: export, merge, pair), `conflict` (both
//!   sides changed a field: recorded, later edit or owner wins, labels
//!   merge), `mass` (a cycle over the mass-change threshold waits) and
//!   `admin` (every admin action: pause, resume, retry or drop an issue's
//!   blocked changes, ignore an issue, re-apply or dismiss a conflict, set
//!   field owners: the CLI's and the console's);
//!   `mapping` (the per-sync TOML file of the partner's names to ours,
//!   applied at the edge for every backend: incoming in `apply`, outgoing
//!   in the outbox batch) and `worklogs` (the partner's time, logged for
//!   the user the mapping names); `stall` (a partner that does not
//!   acknowledge, a gap that does not fill: shown, not failed).
//! - [`status`]: the read model: what `postern status`, the console's
//!   pages and `/metrics` show of each sync, read in one place, redacted.
//! - [`daemon`]: the long-running loop: each sync on its own schedule
//!   (`schedule`, pure) and its cycles on a thread of their own
//!   (`worker`: its own database connection, panics caught and shown as
//!   that sync's failure), woken by notify, IMAP IDLE (which also says when
//!   the mailbox cannot be watched) and other connections' commits,
//!   watching RECEIVE folders again when they are replaced (`folders`),
//!   watching a remote tracker that does not answer for answering again
//!   (`probe`), polling only network shares (`mounts`) and mailboxes
//!   without IDLE (`polling` decides what tells and what is looked for).
//! - [`console`]: the status console in the browser, `/metrics` and
//!   `/health`, served by the daemon (`run --http`) from its runtime:
//!   server-rendered pages over the read model ([`status`]) `postern
//!   status` prints, actions (through `engine::admin`, as the CLI) behind a token
//!   and CSRF tokens, and the trackers' webhooks (`hooks`: a signed hook
//!   wakes its sync through `daemon::wake`; polling stays the truth).
//! - [`cli`]: parses and prints, nothing more: one file per subcommand
//!   (`sync` is a room: `create`, `accept`, `life` pause/resume/delete,
//!   `records`, `resync`, `verify`, `edit` and its `tracker` settings);
//!   what a command does lives below it
//!   (`engine::admin`, `engine::handshake`, `engine::resync`, [`status`]),
//!   where the console finds it too;
//!   `generate` makes the man pages and completions the Debian package
//!   ships (`scripts/package.sh`, units in `debian/`); `main.rs` only
//!   parses and runs.
//! - [`bench`](mod@bench): `postern bench`, two real peers measured end to end.
//!
//! # Message flow
//!
//! ```text
//!  tracker write ──► t_change (change log, `origin` = sync that applied it,
//!        │            `via` = peers it crossed)
//!        │  collect: one transaction reads the log after the cursor,
//!        │  skips its own echoes and what other syncs applied (unless it
//!        ▼  forwards, never to a peer in `via`), stores numbered messages
//!     outbox (seq 1, 2, …; kept until acknowledged)
//!        │  (a change too large for one message: parts in consecutive ones;
//!        │   a large attachment: spooled, then chunks a window at a time,
//!        │   their bytes read from the spool when sealed)
//!        │  send: envelope {sync, from, to, seq, ack, body} → sign → encrypt
//!        ▼  → SEND/.postern-tmp-… → fsync → rename postern-<sync>-<seq>-<n>.pgp
//!           or an OpenPGP/MIME mail through SMTP (the plaintext then a
//!           MIME entity: a summary and the envelope as a JSON attachment)
//!   ═══ shared folder / network share / carried medium / mail ═══
//!        │  receive: RECEIVE/postern-… or IMAP mails of this sync after the
//!        │  stored UID → size check → decrypt → verify the
//!        ▼  pinned partner signature → check sync, recipient, number
//!  duplicate → drop  │  ahead of a gap → held (resend asked if it lasts)
//!  next → one transaction: apply changes (savepoint each; a refused change
//!         blocks only its issue), in_seq = seq, drain held, queue pairings
//!         (a chunk: written at its offset in a spool file, flushed; the
//!         last one applies the attachment from the file)
//!        │  then the file (mail) is removed; acknowledgements ride on every
//!        ▼  message back, or go alone as a control message
//!     partner's tracker (writes tagged with the sync id: never echoed)
//! ```
//!
//! # Following one change
//!
//! | step | where |
//! | --- | --- |
//! | a person edits an issue | the tracker: `tracker::embedded` logs it; Redmine, Jira and GitHub are polled (`tracker::remote::detect`) |
//! | it is found | `engine::outgoing::collect`, through [`tracker::Reads::changes_since`] |
//! | it becomes a wire change | `engine::snapshots`, the mapping's names (`engine::mapping`), `engine::conflict::outgoing` |
//! | it is numbered and kept | the outbox (`store::outbox`), split by `engine::parts` when large |
//! | it leaves | `engine::send`: sealed (`crypto::message`), written by a [`transport::Transport`] |
//! | it arrives | `engine::incoming::receive`: opened, checked, put in order (`protocol::classify`) |
//! | what it means is recorded | `store::receipts` (heard, applied, repeated), in the applying transaction |
//! | what to do is decided | `engine::apply::apply_message` → `engine::arrivals` (paired, not copied), `engine::conflict::decide`, `engine::rules` |
//! | it is written | [`tracker::Writes`], through the apply journal (`engine::journal`) for a tracker outside the transaction |
//! | the tracker refuses it | `engine::apply`: the issue's error and its later changes parked (`store::problems`), the other issues go on |
//!
//! `tests/layers.rs` keeps the modules from importing each other in a loop.
//!
//! A crash at any point is safe: a message is removed from RECEIVE only
//! after the transaction that applied it committed, and the sequence
//! number recorded in that transaction makes a second reading a duplicate.
//! The embedded tracker writes inside that transaction. A remote tracker
//! (Redmine) cannot: each write is recorded in the apply journal before
//! and after it is made, so applying the message again (after a crash or
//! an outage mid-message) uses what was done instead of repeating it, and
//! finds a write whose result was not recorded by what the sync user
//! wrote since; one not found is made again only once a tracker that got
//! it late would have made it (one answer's time after the last try). Its changes are found by polling "updated since" with an
//! overlap and comparing with what was last sent or written.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod clock;
pub mod console;
pub mod crypto;
pub mod daemon;
pub mod engine;
pub mod home;
pub mod protocol;
pub mod secret;
pub mod status;
pub mod store;
pub mod tracker;
pub mod transport;
pub mod words;
