//! What a verify (anti-entropy) carries: digests of the paired issues in
//! buckets, the digests of the issues in buckets that differ, and then
//! the views of the issues that differ, in the wire's terms (the
//! sender's names sent through its own mapping). A view holds only what
//! crosses: no owned fields, nothing local.
//!
//! Pairs are named by the master's issue key, which both sides know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FieldChanges;

/// One step of a verify round. Steps 1 to 4 alternate between the side
/// that started it and its partner; step 5 asks for a repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VerifyStep {
    /// The round's id, chosen by the side that started it.
    pub round: String,
    /// 1: the bucket tree; 2: the issue digests of the buckets that
    /// differ; 3 and 4: the views of the issues that differ (from the
    /// starter, then from the partner); 5: issues whose state the
    /// receiver is asked to send (a repair).
    pub step: u8,
    /// How many pairs the sender has.
    #[serde(default)]
    pub pairs: u64,
    /// Step 1: one 8-hex-digit digest per bucket, concatenated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tree: String,
    /// Step 2: the buckets that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<u32>,
    /// Step 2: master key → issue digest, for the pairs in those buckets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// Steps 3 and 4: the sender's views of the issues that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<IssueView>,
    /// Steps 3 and 4: master keys the sender was asked about and does not
    /// pair (or no longer holds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Steps 1 and 3: the starter repairs what differs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repair: bool,
    /// The parts (`labels`, `worklogs`, …) the sender's tracker does not
    /// carry, with those the partner said in an earlier step: neither
    /// side's digests or views hold them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
    /// Step 5: the parts of these issues whose state the receiver sends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub send: Vec<RepairAsk>,
}

/// An issue as it crosses, for comparing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IssueView {
    /// The master's issue key.
    pub key: String,
    /// The sender's key of the issue (for the report's words).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub theirs: String,
    pub fields: FieldChanges,
    /// Comment texts (normalised), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
    /// Worklogs as `minutes@YYYY-MM-DD`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub worklogs: Vec<String>,
    /// Attachments as `sha256 name`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// When each field was last changed on the sender's side (repairs:
    /// the later change wins). Not part of the digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub at: BTreeMap<String, i64>,
    /// When the newest comment or worklog was written there.
    #[serde(default)]
    pub parts_at: i64,
    /// The sender has changes of this issue on their way (or waiting
    /// behind an error): a difference may be one in passing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub busy: bool,
    /// The sender's admin stopped taking the partner's changes of it
    /// (`errors ignore-issue`): the two may differ on purpose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
}

/// What one side asks the other to send of one issue (a repair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RepairAsk {
    /// The master's issue key.
    pub key: String,
    /// `summary`, …, `comments`, `worklogs`, `attachments`.
    pub parts: Vec<String>,
}
