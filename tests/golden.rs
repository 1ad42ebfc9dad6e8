//! Freezes the wire format: these envelopes must serialize to exactly the
//! stored bytes, and the stored bytes must parse back to them. A change
//! here breaks every peer already deployed: bump FORMAT_VERSION instead.

use postern::protocol::verify::{IssueView, RepairAsk, VerifyStep};
use postern::protocol::*;

fn envelopes() -> Vec<Envelope> {
    let base = |seq: u64, body: Body| Envelope {
        postern: FORMAT_VERSION,
        sync: "0b4f3c1e-8a6d-4c1e-9f5a-2d7e8b9c0a1f".into(),
        from: "FCBCB55FB46D237FD10FC68A97533854F32DECA3".into(),
        to: "CAC437AFE78F1A09E1C4FE8492581967D0F415E9".into(),
        seq,
        ack: 7,
        sent_at: 1_604_663_098_456,
        body,
    };
    let changes = vec![
        Change::IssueCreated {
            issue: "SAM2-1".into(),
            fields: IssueFields {
                summary: "Login fails".into(),
                description: "über <b>".into(),
                status: "Open".into(),
                priority: "High".into(),
                labels: vec!["sso".into()],
                assignee: None,
                ..Default::default()
            },
            comments: vec![CommentSnapshot {
                id: "10019".into(),
                author: "vera".into(),
                body: "Seen".into(),
                created_at: 1_604_663_032_918,
                gid: None,
            }],
            gid: None,
            worklogs: Vec::new(),
            fields_at: Default::default(),
        },
        Change::IssueUpdated {
            issue: "SAM2-1".into(),
            fields: FieldChanges { status: Some("Done".into()), assignee: Some("".into()), ..Default::default() },
            at: 1_604_663_098_000,
            seen: None,
        },
        Change::CommentAdded {
            issue: "SAM2-1".into(),
            comment: CommentSnapshot {
                id: "10020".into(),
                author: "vera".into(),
                body: "line1\nline2".into(),
                created_at: 1_604_663_098_000,
                gid: None,
            },
        },
        Change::CommentEdited { issue: "SAM2-1".into(), comment: "10020".into(), body: "edited".into(), at: 0 },
        Change::CommentDeleted { issue: "SAM2-1".into(), comment: "10020".into() },
        Change::Paired {
            yours: "SP2-1".into(),
            mine: "SAM2-1".into(),
            comments: vec![("10034".into(), "10019".into())],
            attachments: Vec::new(),
            worklogs: Vec::new(),
        },
    ];
    let files = vec![
        Change::AttachmentAdded {
            issue: "SAM2-1".into(),
            attachment: AttachmentSnapshot {
                id: "3".into(),
                filename: "crash.log".into(),
                media_type: "text/plain".into(),
                author: "vera".into(),
                created_at: 1_604_663_099_000,
                sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
                data: "aGVsbG8=".into(),
                size: None,
                transfer: None,
                gid: None,
            },
        },
        Change::AttachmentDeleted { issue: "SAM2-1".into(), attachment: "3".into() },
        Change::Paired {
            yours: "SP2-1".into(),
            mine: "SAM2-1".into(),
            comments: Vec::new(),
            attachments: vec![("3".into(), "12".into())],
            worklogs: Vec::new(),
        },
        Change::Part { issue: "SAM2-1".into(), id: "9f3c".into(), index: 0, total: 2, data: "eyJ0eXBl".into() },
    ];
    vec![
        base(
            1,
            Body::Accept {
                cert: "-----BEGIN PGP PUBLIC KEY BLOCK-----…".into(),
                proof: "ab12".into(),
                address: None,
                max_message_bytes: None,
            },
        ),
        base(8, Body::Changes { changes: changes.into_iter().map(WireChange::Known).collect(), via: vec![] }),
        base(0, Body::Ack),
        base(0, Body::Resend { from: 3, to: 5 }),
        base(9, Body::Rekey { cert: "-----BEGIN PGP PUBLIC KEY BLOCK-----…".into() }),
        base(
            1,
            Body::Accept {
                cert: "-----BEGIN PGP PUBLIC KEY BLOCK-----…".into(),
                proof: "ab12".into(),
                address: Some("customer-sync@example.test".into()),
                max_message_bytes: Some(10_000_000),
            },
        ),
        base(10, Body::Changes { changes: files.into_iter().map(WireChange::Known).collect(), via: vec![] }),
        base(
            11,
            Body::Changes {
                changes: vec![WireChange::Known(Change::CommentEdited {
                    issue: "SAM2-1".into(),
                    comment: "10020".into(),
                    body: "edited again".into(),
                    at: 1_604_663_099_500,
                })],
                via: vec![],
            },
        ),
        // A resync: the issue's state (summary only) and its comments.
        base(
            13,
            Body::Changes {
                changes: vec![WireChange::Known(Change::IssueState {
                    issue: "SAM2-1".into(),
                    fields: FieldChanges { summary: Some("Resynced".into()), ..Default::default() },
                    at: 1_604_663_200_000,
                    comments: Some(vec![CommentSnapshot {
                        id: "10019".into(),
                        author: "alice".into(),
                        body: "kept".into(),
                        created_at: 1_604_663_050_000,
                        gid: None,
                    }]),
                    worklogs: None,
                })],
                via: vec![],
            },
        ),
        // A resync asked of the partner.
        base(
            14,
            Body::Changes {
                changes: vec![WireChange::Known(Change::ResyncRequest {
                    scope: postern::protocol::scope::Scope {
                        keys: vec!["SP2-1".into()],
                        fields: vec!["summary".into()],
                        ..Default::default()
                    },
                })],
                via: vec![],
            },
        ),
        // Which side owns which fields, as the sender's admin set it.
        base(
            15,
            Body::Changes {
                changes: vec![WireChange::Known(Change::FieldOwners {
                    owners: [("status".to_string(), "master".to_string())].into_iter().collect(),
                })],
                via: vec![],
            },
        ),
        // Issue types, due dates, custom fields by name and worklogs.
        base(
            16,
            Body::Changes {
                changes: [
                    Change::IssueCreated {
                        issue: "SAM2-3".into(),
                        fields: IssueFields {
                            summary: "Export slow".into(),
                            status: "Open".into(),
                            priority: "High".into(),
                            assignee: Some("Vera Vendor".into()),
                            assignee_email: Some("vera@vendor.example".into()),
                            issue_type: Some("Bug".into()),
                            due_date: Some("2026-12-24".into()),
                            custom: [("Customer ref".to_string(), "CR-7".to_string())].into(),
                            ..Default::default()
                        },
                        comments: Vec::new(),
                        gid: None,
                        worklogs: vec![WorklogSnapshot {
                            id: "501".into(),
                            author: "Vera Vendor".into(),
                            author_email: Some("vera@vendor.example".into()),
                            minutes: 90,
                            spent_on: "2026-11-20".into(),
                            comment: "Profiling".into(),
                            at: 0,
                        }],
                        fields_at: Default::default(),
                    },
                    Change::IssueUpdated {
                        issue: "SAM2-3".into(),
                        fields: FieldChanges {
                            issue_type: Some("Feature".into()),
                            due_date: Some(String::new()),
                            custom: [("Customer ref".to_string(), String::new())].into(),
                            ..Default::default()
                        },
                        at: 1_604_663_101_000,
                        seen: Some(4),
                    },
                    Change::WorklogAdded {
                        issue: "SAM2-3".into(),
                        worklog: WorklogSnapshot {
                            id: "502".into(),
                            author: "carl".into(),
                            author_email: None,
                            minutes: 15,
                            spent_on: "2026-11-21".into(),
                            comment: String::new(),
                            at: 0,
                        },
                    },
                    Change::WorklogEdited {
                        issue: "SAM2-3".into(),
                        worklog: WorklogSnapshot {
                            id: "502".into(),
                            author: "carl".into(),
                            author_email: None,
                            minutes: 30,
                            spent_on: "2026-11-21".into(),
                            comment: "call".into(),
                            at: 0,
                        },
                    },
                    Change::WorklogDeleted { issue: "SAM2-3".into(), worklog: "502".into() },
                    Change::Paired {
                        yours: "SP2-3".into(),
                        mine: "SAM2-3".into(),
                        comments: Vec::new(),
                        attachments: Vec::new(),
                        worklogs: vec![("501".into(), "77".into())],
                    },
                ]
                .into_iter()
                .map(WireChange::Known)
                .collect(),
                via: vec![],
            },
        ),
        // The master's answer to an accept it refused.
        base(
            0,
            Body::Refused {
                reason:
                    "sync 'first' already pairs project SAM2 with this partner's key: replace it (--replaces first)"
                        .into(),
            },
        ),
        // A verify: the tree of digests (step 1), and the views of the
        // issues that differ (step 3), in the wire's terms.
        base(
            17,
            Body::Changes {
                changes: vec![
                    WireChange::Known(Change::Verify(Box::new(VerifyStep {
                        round: "6a0f3c55-9d51-4f0e-8a43-0d5d43a8e2a1".into(),
                        step: 1,
                        pairs: 40,
                        tree: "9f1c2b7a00000000".into(),
                        repair: true,
                        ..Default::default()
                    }))),
                    WireChange::Known(Change::Verify(Box::new(VerifyStep {
                        round: "6a0f3c55-9d51-4f0e-8a43-0d5d43a8e2a1".into(),
                        step: 3,
                        pairs: 40,
                        views: vec![IssueView {
                            key: "SAM2-1".into(),
                            theirs: "SAM2-1".into(),
                            fields: FieldChanges {
                                summary: Some("Crash on start".into()),
                                status: Some("Done".into()),
                                labels: Some(vec!["customer".into()]),
                                ..Default::default()
                            },
                            comments: vec!["hello".into()],
                            worklogs: vec!["30@2026-11-21".into()],
                            attachments: vec![
                                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 trace.txt".into(),
                            ],
                            at: [("status".to_string(), 1_604_663_099_000)].into(),
                            parts_at: 1_604_663_100_000,
                            busy: false,
                            ignored: false,
                        }],
                        absent: vec!["SAM2-9".into()],
                        ..Default::default()
                    }))),
                    WireChange::Known(Change::Verify(Box::new(VerifyStep {
                        round: String::new(),
                        step: 5,
                        send: vec![RepairAsk { key: "SAM2-1".into(), parts: vec!["status".into(), "comments".into()] }],
                        ..Default::default()
                    }))),
                ],
                via: vec![],
            },
        ),
        // Passed on by a forwarding hub: the peers it crossed, and where the
        // issue, its comment and its attachment were first made.
        base(
            12,
            Body::Changes {
                changes: vec![
                    WireChange::Known(Change::IssueCreated {
                        issue: "SAM2-2".into(),
                        fields: IssueFields {
                            summary: "From the customer".into(),
                            status: "Open".into(),
                            priority: "Low".into(),
                            ..Default::default()
                        },
                        comments: vec![CommentSnapshot {
                            id: "10040".into(),
                            author: "carl".into(),
                            body: "first".into(),
                            created_at: 1_604_663_100_000,
                            gid: Some("D4F8878677B0728999AB70D68FCC8BFEB9DDCD00/77".into()),
                        }],
                        gid: Some("D4F8878677B0728999AB70D68FCC8BFEB9DDCD00/CUS-5".into()),
                        worklogs: Vec::new(),
                        // When each field last changed on the hub's side.
                        fields_at: [
                            ("status".to_string(), 1_604_663_099_000),
                            ("summary".to_string(), 1_604_663_090_000),
                        ]
                        .into(),
                    }),
                    WireChange::Known(Change::AttachmentAdded {
                        issue: "SAM2-2".into(),
                        attachment: AttachmentSnapshot {
                            id: "14".into(),
                            filename: "trace.txt".into(),
                            media_type: "text/plain".into(),
                            author: "carl".into(),
                            created_at: 1_604_663_100_000,
                            sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
                            data: "aGVsbG8=".into(),
                            size: None,
                            transfer: None,
                            gid: Some("D4F8878677B0728999AB70D68FCC8BFEB9DDCD00/5".into()),
                        },
                    }),
                ],
                via: vec!["D4F8878677B0728999AB70D68FCC8BFEB9DDCD00".into()],
            },
        ),
    ]
}

#[test]
fn envelope_format_is_frozen() {
    let golden = include_str!("golden/envelope-v1.jsonl");
    let lines: Vec<&str> = golden.lines().collect();
    let envs = envelopes();
    if std::env::var_os("POSTERN_PRINT_GOLDEN").is_some() {
        // On a deliberate format change: print the lines to paste.
        for env in &envs {
            println!("{}", String::from_utf8(env.to_json()).unwrap());
        }
        return;
    }
    assert_eq!(lines.len(), envs.len());
    for (env, line) in envs.iter().zip(lines) {
        // On a deliberate format change, paste the printed line into the file.
        assert_eq!(String::from_utf8(env.to_json()).unwrap(), line);
        assert_eq!(&Envelope::from_json(line.as_bytes()).unwrap(), env);
    }
}

#[test]
fn malformed_envelopes_are_refused_with_a_reason() {
    let good = String::from_utf8(envelopes()[2].to_json()).unwrap();
    let cases = [
        (good.replace("\"postern\":1", "\"postern\":2"), "version"),
        (good.replace("\"seq\":0", "\"seq\":4"), "does not fit"),
        (good.replace("\"kind\":\"ack\"", "\"kind\":\"launch\""), "malformed"),
        (good.replace("\"ack\":7,", "\"ack\":7,\"extra\":1,"), "malformed"),
        ("{".to_string(), "malformed"),
    ];
    for (text, why) in cases {
        let err = Envelope::from_json(text.as_bytes()).unwrap_err();
        assert!(err.contains(why), "{text}: {err}");
    }
}

/// Over mail the decrypted message is a MIME entity (a summary and the
/// JSON as an attachment); its form is frozen here, and the bare JSON that
/// folders carry (and older mails) is still read.
#[test]
fn mail_entity_form_is_frozen_and_bare_json_stays_readable() {
    use postern::protocol::entity;
    let envs = envelopes();
    // (The forwarded issue, kept last.)
    let env = envs.last().unwrap();
    let entity = entity::wrap(env, &env.to_json(), "acme", "the master peer <vendor@example.test>");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/entity-v1.eml");
    if std::env::var_os("POSTERN_PRINT_GOLDEN").is_some() {
        // On a deliberate format change: rewrite the frozen entity.
        std::fs::write(path, &entity).unwrap();
        return;
    }
    let golden = std::fs::read(path).unwrap();
    assert_eq!(String::from_utf8_lossy(&entity), String::from_utf8_lossy(&golden));
    assert_eq!(&Envelope::from_plaintext(&golden).unwrap(), env);
    for (env, line) in envs.iter().zip(include_str!("golden/envelope-v1.jsonl").lines()) {
        assert_eq!(&Envelope::from_plaintext(line.as_bytes()).unwrap(), env);
    }
}
