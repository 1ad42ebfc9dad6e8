//! Verify: anti-entropy between the two trackers of a sync. The side that
//! starts a round sends a tree of digests over its pairs (buckets by
//! master key, then issues); the partner answers with the issue digests
//! of the buckets that differ; the starter sends its views of the issues
//! that differ; the partner compares them with its own, keeps its report
//! and answers with its views; the starter compares and keeps its report.
//! Four messages, whatever the number of pairs: a clean round of 10,000
//! pairs carries one digest per 32 pairs, not the issues.
//!
//! Each step rides the sync's numbered messages, so it is applied in
//! order with the changes around it: a side compares after applying all
//! that the other sent before its step. An issue with changes still on
//! their way on either side (not acknowledged, or waiting behind an
//! error) is not compared but listed as changing.
//!
//! A repair (`sync verify --repair`, or the `repair` policy) sends, per
//! part that differs, the state of the side that changed it last: the
//! starter sends its own (`IssueState`, as a resync), and asks the
//! partner for the rest (step 5).

pub mod compare;
pub mod view;

use crate::tracker::Reads;
use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, TransactionBehavior};

use super::mapping::Mapping;
use super::outgoing::Batch;
use crate::protocol::scope::Scope;
use crate::protocol::verify::{IssueView, RepairAsk, VerifyStep};
use crate::protocol::Change;
use crate::store::verify::{self as store, Difference, VerifyReport};
use crate::store::{now_ms, Role, SyncRecord};
use crate::tracker::{TResult, Tracker};
use view::Pair;

/// Starts a round: reads every paired issue once and queues the tree.
/// Returns the round's id.
pub fn start(conn: &mut Connection, sync: &SyncRecord, repair: bool) -> anyhow::Result<String> {
    if sync.state != crate::store::SyncState::Active {
        anyhow::bail!("sync '{}' is still in its handshake: a verify needs it done on both sides", sync.name);
    }
    if sync.paused_at.is_some() {
        anyhow::bail!("sync '{}' is paused: resume it (`postern sync resume {}`), then verify", sync.name, sync.name);
    }
    let round = uuid::Uuid::new_v4().to_string();
    let calls = crate::tracker::remote::calls();
    let (pairs, tree, skip) = {
        let tracker = crate::engine::tracker_of::for_sync(sync, conn)?;
        let pairs = view::pairs(conn, sync)?;
        let skip = tracker.not_carried()?;
        let digests = view::digests(&tracker, (sync, &Mapping::of(sync.mapping.as_deref())?), &pairs, &skip)?;
        (pairs.len() as u64, view::tree(&digests, view::bucket_count(pairs.len() as u64)), skip)
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = now_ms();
    store::begin(&tx, &sync.id, &round, true, repair, now)?;
    send(&tx, sync, VerifyStep { round: round.clone(), step: 1, pairs, tree, repair, skip, ..Default::default() })?;
    store::add_calls(&tx, &sync.id, &round, crate::tracker::remote::calls() - calls)?;
    tx.commit()?;
    tracing::info!(sync = %sync.name, pairs, round, "verify started");
    Ok(round)
}

/// The least time between two verifies started by a resync or an outage.
const AGAIN_AFTER_MS: i64 = 600_000;

/// Starts a round when one is due: the sync's schedule (`sync edit
/// --verify-every`, daily by default) has passed since the last, or
/// `now` after a resync or an outage (unless verifies are switched off).
/// The sync's policy says whether it repairs. A failure is logged: the
/// next cycle tries again.
pub fn if_due(conn: &mut Connection, sync: &SyncRecord, now: bool) {
    let due = || -> anyhow::Result<bool> {
        // Not before the handshake is done on both sides: a slave knows its
        // partner's key before the master took its accept.
        if sync.state != crate::store::SyncState::Active || sync.replaced_by.is_some() || sync.paused_at.is_some() {
            return Ok(false);
        }
        let setting = store::setting(conn, &sync.id)?;
        if setting.every_ms == 0 {
            return Ok(false);
        }
        let last = store::last_started(conn, &sync.id)?;
        if now {
            // A tracker that keeps coming and going starts one at most
            // every ten minutes.
            return Ok(last.is_none_or(|t| now_ms() - t >= AGAIN_AFTER_MS));
        }
        Ok(now_ms() >= last.unwrap_or(sync.created_at).saturating_add(setting.every_ms))
    };
    let started = due().and_then(|due| match due {
        true => {
            let repair = store::setting(conn, &sync.id)?.policy == "repair";
            start(conn, sync, repair).map(Some)
        }
        false => Ok(None),
    });
    if let Err(e) = started {
        tracing::warn!(sync = %sync.name, "a verify could not start (tried again next cycle): {e:#}");
    }
}

fn send(conn: &Connection, sync: &SyncRecord, step: VerifyStep) -> TResult<()> {
    let mut batch = Batch::for_sync(sync)?;
    let now = now_ms();
    batch.add(conn, &sync.id, now, Change::Verify(Box::new(step)), ("", now), &[])?;
    batch.flush(conn, &sync.id, now)?;
    Ok(())
}

/// Applies a step the partner sent (inside the message's transaction).
pub fn handle(conn: &Connection, tracker: &impl Tracker, sync: &SyncRecord, step: &VerifyStep) -> TResult<()> {
    let mapping = Mapping::of(sync.mapping.as_deref())?;
    let here = Here { conn, tracker, sync, mapping: &mapping };
    let calls = crate::tracker::remote::calls();
    let done = match step.step {
        1 => here.tree_arrived(step),
        2 => here.digests_arrived(step),
        3 => here.views_arrived(step),
        4 => here.answer_arrived(step),
        5 => here.repair_asked(step),
        n => {
            tracing::warn!(sync = %sync.name, step = n, "a verify step this version does not know; ignored");
            Ok(())
        }
    };
    store::add_calls(conn, &sync.id, &step.round, crate::tracker::remote::calls() - calls)?;
    done
}

struct Here<'a, T> {
    conn: &'a Connection,
    tracker: &'a T,
    sync: &'a SyncRecord,
    mapping: &'a Mapping,
}

impl<T: Tracker> Here<'_, T> {
    /// The parts neither side's digests hold: what the partner said and
    /// what our tracker does not carry.
    fn skip(&self, step: &VerifyStep) -> TResult<Vec<String>> {
        Ok(view::union(&step.skip, &self.tracker.not_carried()?))
    }

    fn report(&self, step: &VerifyStep, pairs: u64) -> VerifyReport {
        let started = store::get(self.conn, &self.sync.id, &step.round).ok().flatten().map(|r| r.started_at);
        VerifyReport {
            round: step.round.clone(),
            started_at: started.unwrap_or_else(now_ms),
            finished_at: now_ms(),
            pairs,
            partner_pairs: step.pairs,
            ..Default::default()
        }
    }

    fn finish_clean(&self, step: &VerifyStep, pairs: u64) -> TResult<()> {
        let report = self.report(step, pairs);
        tracing::info!(sync = %self.sync.name, pairs, "verify: both sides agree");
        store::finish(self.conn, &self.sync.id, &report, now_ms())?;
        Ok(())
    }

    /// Step 1 (partner): compare trees, answer with the digests of the
    /// buckets that differ.
    fn tree_arrived(&self, step: &VerifyStep) -> TResult<()> {
        store::begin(self.conn, &self.sync.id, &step.round, false, step.repair, now_ms())?;
        let count = (step.tree.len() / 8) as u32;
        let pairs = view::pairs(self.conn, self.sync)?;
        let n = pairs.len() as u64;
        let skip = self.skip(step)?;
        let digests = view::digests(self.tracker, (self.sync, self.mapping), &pairs, &skip)?;
        let buckets = view::differing_buckets(&view::tree(&digests, count), &step.tree);
        let mut reply = VerifyStep { round: step.round.clone(), step: 2, pairs: n, skip, ..Default::default() };
        if buckets.is_empty() {
            self.finish_clean(step, n)?;
        } else {
            reply.digests = digests
                .into_iter()
                .filter(|(p, _)| buckets.contains(&view::bucket(&p.master_key, count)))
                .map(|(p, d)| (p.master_key, d.unwrap_or_else(|| "gone".into())))
                .collect();
            reply.buckets = buckets;
        }
        send(self.conn, self.sync, reply)
    }

    /// Step 2 (starter): the issues whose digests differ go as views.
    fn digests_arrived(&self, step: &VerifyStep) -> TResult<()> {
        let Some(round) = store::get(self.conn, &self.sync.id, &step.round)? else {
            tracing::warn!(sync = %self.sync.name, round = step.round, "an answer to a verify this side does not know");
            return Ok(());
        };
        let pairs = view::pairs(self.conn, self.sync)?;
        let n = pairs.len() as u64;
        if step.buckets.is_empty() {
            return self.finish_clean(step, n);
        }
        let count = view::bucket_count(n);
        let ours: Vec<Pair> =
            pairs.into_iter().filter(|p| step.buckets.contains(&view::bucket(&p.master_key, count))).collect();
        let skip = self.skip(step)?;
        let ours = view::digests(self.tracker, (self.sync, self.mapping), &ours, &skip)?;
        let mut differ: BTreeSet<String> = step.digests.keys().cloned().collect();
        for (p, d) in &ours {
            match step.digests.get(&p.master_key) {
                Some(theirs) if Some(theirs) == d.as_ref() => {
                    differ.remove(&p.master_key);
                }
                _ => {
                    differ.insert(p.master_key.clone());
                }
            }
        }
        let Ours { views, absent, .. } = self.views(&differ, &skip)?;
        let reply = VerifyStep {
            skip,
            round: step.round.clone(),
            step: 3,
            pairs: n,
            views,
            absent,
            repair: round.repair,
            ..Default::default()
        };
        send(self.conn, self.sync, reply)
    }

    /// Our views of the pairs `keys` (master keys), with when each field
    /// was last changed; the keys we do not hold; and our fields in our
    /// own terms (what the partner's views are compared with). One read
    /// of each issue.
    fn views(&self, keys: &BTreeSet<String>, skip: &[String]) -> TResult<Ours> {
        let pairs = view::pairs(self.conn, self.sync)?;
        let mut ours = Ours::default();
        for key in keys {
            let Some(p) = pairs.iter().find(|p| &p.master_key == key) else {
                ours.absent.push(key.clone());
                continue;
            };
            if p.ignored {
                let v = IssueView { key: key.clone(), theirs: p.local.clone(), ignored: true, ..Default::default() };
                ours.views.push(v);
                continue;
            }
            let Some(i) = self.tracker.issue(&p.local)? else {
                ours.absent.push(key.clone());
                continue;
            };
            let mut v = view::of(self.sync, self.mapping, p, &i, skip);
            v.at = self.tracker.local_field_times(&p.local, &self.sync.id)?;
            ours.views.push(v);
            ours.fields.insert(key.clone(), view::fields(self.sync, &i.fields, skip));
        }
        Ok(ours)
    }

    /// Steps 3 and 4: compares the partner's views with ours. Gives our
    /// report and our views of the same issues.
    fn judge(&self, step: &VerifyStep) -> TResult<Judged> {
        let keys: BTreeSet<String> =
            step.views.iter().map(|v| v.key.clone()).chain(step.absent.iter().cloned()).collect();
        let skip = self.skip(step)?;
        let Ours { views: ours, absent, fields } = self.views(&keys, &skip)?;
        let pairs = view::pairs(self.conn, self.sync)?;
        let tables = crate::engine::tracker_of::settings(self.sync)?.name_tables();
        let mut report = self.report(step, pairs.len() as u64);
        report.compared = keys.len() as u64;
        let mut found = BTreeMap::new();
        for key in &keys {
            let mine = ours.iter().find(|v| &v.key == key);
            let theirs = step.views.iter().find(|v| &v.key == key);
            let local = pairs.iter().find(|p| &p.master_key == key);
            let busy = mine.is_some_and(|v| v.busy) || theirs.is_some_and(|v| v.busy);
            let name = local.map(|p| p.local.clone()).unwrap_or_default();
            if mine.is_some_and(|v| v.ignored) || theirs.is_some_and(|v| v.ignored) {
                report.ignored.push(if name.is_empty() { key.clone() } else { name });
                continue;
            }
            if busy {
                report.changing.push(if name.is_empty() { key.clone() } else { name });
                continue;
            }
            let partner_key = theirs.map(|v| v.theirs.clone()).or(local.map(|p| p.partner.clone())).unwrap_or_default();
            let what = match (mine, theirs) {
                (Some(m), Some(t)) => {
                    let f = compare::compare((self.mapping, &tables), &fields[key], m, t);
                    if f.is_empty() {
                        continue;
                    }
                    found.insert(key.clone(), Differing { parts: f.parts.clone(), mine: m.clone(), theirs: t.clone() });
                    f.words
                }
                (Some(_), None) => vec!["the partner holds no issue paired with it".into()],
                (None, Some(_)) if local.is_some() => vec!["gone here, still at the partner".into()],
                (None, Some(_)) => vec!["not paired here".into()],
                (None, None) => continue,
            };
            report.differing.push(Difference { key: name, partner_key, what });
        }
        Ok((report, ours, absent, found))
    }

    /// Step 3 (partner): our report, and our views back.
    fn views_arrived(&self, step: &VerifyStep) -> TResult<()> {
        let (report, views, absent, _) = self.judge(step)?;
        let pairs = report.pairs;
        let skip = self.skip(step)?;
        let reply = VerifyStep { round: step.round.clone(), step: 4, pairs, views, absent, skip, ..Default::default() };
        send(self.conn, self.sync, reply)?;
        log(self.sync, &report);
        store::finish(self.conn, &self.sync.id, &report, now_ms())?;
        Ok(())
    }

    /// Step 4 (starter): our report; the repair, if asked for.
    fn answer_arrived(&self, step: &VerifyStep) -> TResult<()> {
        let Some(round) = store::get(self.conn, &self.sync.id, &step.round)? else {
            return Ok(());
        };
        let (mut report, _, _, found) = self.judge(step)?;
        log(self.sync, &report);
        if round.repair {
            report.repaired = self.repair(&found)?;
        }
        store::finish(self.conn, &self.sync.id, &report, now_ms())?;
        Ok(())
    }

    /// Sends our state of the parts we changed last; asks the partner for
    /// the rest. Gives the issues repaired (our keys).
    fn repair(&self, found: &BTreeMap<String, Differing>) -> TResult<Vec<String>> {
        let master = self.sync.role == Role::Master;
        let pairs = view::pairs(self.conn, self.sync)?;
        let (mut asks, mut repaired) = (Vec::new(), Vec::new());
        let mut batch = Batch::for_sync(self.sync)?;
        let now = now_ms();
        for (key, f) in found {
            let Some(pair) = pairs.iter().find(|p| &p.master_key == key) else { continue };
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for part in &f.parts {
                let ours_wins = match part.as_str() {
                    "comments" | "worklogs" => {
                        let (here, there) = match part.as_str() {
                            "comments" => (&f.mine.comments, &f.theirs.comments),
                            _ => (&f.mine.worklogs, &f.theirs.worklogs),
                        };
                        let extra_here = here.iter().any(|c| !there.contains(c));
                        let extra_there = there.iter().any(|c| !here.contains(c));
                        match (extra_here, extra_there) {
                            (true, false) => true,
                            (false, true) => false,
                            _ => {
                                f.mine.parts_at > f.theirs.parts_at || (f.mine.parts_at == f.theirs.parts_at && master)
                            }
                        }
                    }
                    "attachments" => {
                        // Each side sends those it has that never crossed.
                        ours.push(part.clone());
                        theirs.push(part.clone());
                        continue;
                    }
                    field => {
                        let (a, b) =
                            (f.mine.at.get(field).copied().unwrap_or(0), f.theirs.at.get(field).copied().unwrap_or(0));
                        a > b || (a == b && master)
                    }
                };
                if ours_wins {
                    ours.push(part.clone())
                } else {
                    theirs.push(part.clone())
                }
            }
            if !ours.is_empty() {
                if let Some(issue) = self.tracker.issue(&pair.local)? {
                    let scope = Scope { keys: vec![pair.local.clone()], fields: ours, ..Default::default() };
                    let mut warnings = Vec::new();
                    for change in
                        super::resync::state(self.conn, self.tracker, self.sync, &scope, issue, now, &mut warnings)?
                    {
                        batch.add(self.conn, &self.sync.id, now, change, (&pair.local, now), &[])?;
                    }
                }
            }
            if !theirs.is_empty() {
                asks.push(RepairAsk { key: key.clone(), parts: theirs });
            }
            repaired.push(pair.local.clone());
        }
        batch.flush(self.conn, &self.sync.id, now)?;
        if !asks.is_empty() {
            let reply = VerifyStep { round: String::new(), step: 5, send: asks, ..Default::default() };
            send(self.conn, self.sync, reply)?;
        }
        Ok(repaired)
    }

    /// Step 5 (partner): sends the state of the parts asked for.
    fn repair_asked(&self, step: &VerifyStep) -> TResult<()> {
        let pairs = view::pairs(self.conn, self.sync)?;
        let mut batch = Batch::for_sync(self.sync)?;
        let now = now_ms();
        for ask in &step.send {
            let Some(pair) = pairs.iter().find(|p| p.master_key == ask.key) else { continue };
            let Some(issue) = self.tracker.issue(&pair.local)? else { continue };
            let scope = Scope { keys: vec![pair.local.clone()], fields: ask.parts.clone(), ..Default::default() };
            let mut warnings = Vec::new();
            for change in super::resync::state(self.conn, self.tracker, self.sync, &scope, issue, now, &mut warnings)? {
                batch.add(self.conn, &self.sync.id, now, change, (&pair.local, now), &[])?;
            }
            for w in warnings {
                tracing::warn!(sync = %self.sync.name, "repair: {w}");
            }
        }
        batch.flush(self.conn, &self.sync.id, now)?;
        tracing::info!(sync = %self.sync.name, issues = step.send.len(), "verify: the partner asked for a repair; sent");
        Ok(())
    }
}

/// A comparison's outcome: our report, our views of the issues asked
/// about, those we do not hold, and what differs by master key.
type Judged = (VerifyReport, Vec<IssueView>, Vec<String>, BTreeMap<String, Differing>);

/// This side's part of a comparison (see `Here::views`).
#[derive(Default)]
struct Ours {
    views: Vec<IssueView>,
    absent: Vec<String>,
    fields: BTreeMap<String, crate::protocol::FieldChanges>,
}

/// What differs in one issue, with both views (for a repair).
struct Differing {
    parts: Vec<String>,
    mine: IssueView,
    theirs: IssueView,
}

fn log(sync: &SyncRecord, report: &VerifyReport) {
    if report.differing.is_empty() {
        tracing::info!(sync = %sync.name, pairs = report.pairs, changing = report.changing.len(), "verify: both sides agree");
    }
    for d in &report.differing {
        tracing::warn!(sync = %sync.name, "verify: {}", d.line());
    }
}
