//! `postern demo`: a vendor (master) and a customer (slave) on this
//! machine, each with its embedded tracker, wired through one shared folder
//! with symbolic links (seed 003's set-up), from handshake to agreement.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::engine::handshake::{self, SyncSettings};
use crate::engine::{run_until_quiet, Peer};
use crate::home::Home;
use crate::protocol::{FieldChanges, IssueFields};
use crate::store::{links, outbox, syncs};
use crate::tracker::{Actor, Embedded, Reads, Writes};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep everything in this folder instead of a temporary one.
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn link_folder(exchange: &Path, name: &str, target: &Path) -> Result<()> {
    let p = exchange.join(name);
    std::fs::remove_dir(&p).with_context(|| format!("cannot replace {}", p.display()))?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &p)?;
    Ok(())
}

fn write(peer: &mut Peer, user: &str, f: impl FnOnce(&rusqlite::Connection, Actor<'_>) -> Result<()>) -> Result<()> {
    let tx = peer.conn.transaction()?;
    f(&tx, Actor::person(user))?;
    tx.commit()?;
    Ok(())
}

fn fields(summary: &str, status: &str, priority: &str, labels: &[&str]) -> IssueFields {
    IssueFields {
        summary: summary.into(),
        description: format!("{summary}: steps to reproduce are in the attached log."),
        status: status.into(),
        priority: priority.into(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        assignee: None,
        ..Default::default()
    }
}

pub fn demo(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let tmp;
    let root = match args.dir {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            d
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let vendor = Home::create(&root.join("vendor"))?;
    let customer = Home::create(&root.join("customer"))?;
    let share = root.join("share");
    for d in ["vendor-to-customer", "customer-to-vendor"] {
        std::fs::create_dir_all(share.join(d))?;
    }
    println!("Demo folder: {}", root.display());

    // 1. Master: project, key, sync, handshake file.
    Embedded::new(&vendor.open_db()?).create_project("SAM2", "Vendor support", None)?;
    Embedded::new(&customer.open_db()?).create_project("SP2", "Customer projects", None)?;
    let (vkey, _) = vendor.own_key_or_generate()?;
    let vex = vendor.default_exchange("acme-support");
    let created = handshake::create_master(
        &mut vendor.open_db()?,
        &vkey,
        &SyncSettings {
            name: "acme-support".into(),
            description: "Vendor SAM2 <-> customer SP2".into(),
            project: "SAM2".into(),
            sync_user: "sync-vendor".into(),
            exchange_dir: vex.clone(),
            mail: None,
            max_message_bytes: handshake::DEFAULT_MESSAGE_LIMIT,
            forward: false,
            replaces: None,
            tracker: crate::tracker::TrackerSettings::Embedded,
            start: Default::default(),
        },
        7 * 86_400_000,
    )?;
    println!(
        "1. vendor created sync '{}'; handshake file {} bytes, passphrase {}",
        created.sync.name,
        created.handshake.len(),
        created.passphrase
    );

    // 2. Slave uploads it.
    let hs = handshake::read_handshake(&created.handshake, &created.passphrase)?;
    let (ckey, _) = customer.own_key_or_generate()?;
    let cex = customer.default_exchange("acme-support");
    handshake::accept(
        &mut customer.open_db()?,
        &ckey,
        &hs,
        &SyncSettings {
            name: "acme-support".into(),
            description: hs.description.clone(),
            project: "SP2".into(),
            sync_user: "sync-customer".into(),
            exchange_dir: cex.clone(),
            mail: None,
            max_message_bytes: handshake::DEFAULT_MESSAGE_LIMIT,
            forward: false,
            replaces: None,
            tracker: crate::tracker::TrackerSettings::Embedded,
            start: Default::default(),
        },
    )?;
    println!("2. customer uploaded it; master fingerprint {}", hs.master_fingerprint);

    // 3. Wire both exchange folders into the share with symbolic links.
    link_folder(&vex, "SEND", &share.join("vendor-to-customer"))?;
    link_folder(&vex, "RECEIVE", &share.join("customer-to-vendor"))?;
    link_folder(&cex, "SEND", &share.join("customer-to-vendor"))?;
    link_folder(&cex, "RECEIVE", &share.join("vendor-to-customer"))?;

    let mut v = Peer::open(vendor)?;
    let mut c = Peer::open(customer)?;
    run_until_quiet(&mut v, &mut c)?;
    let state = |p: &Peer| -> Result<String> { Ok(syncs::list(&p.conn)?[0].state.as_str().to_string()) };
    println!("3. connection test: vendor {}, customer {}", state(&v)?, state(&c)?);

    // 4. Changes on both sides.
    write(&mut v, "vera", |db, a| {
        let k = Embedded::new(db).create_issue("SAM2", &fields("Login fails with SSO", "Open", "High", &["sso"]), a)?;
        Embedded::new(db).add_comment(&k, "Reproduced on 4.2.1.", None, a)?;
        Embedded::new(db).create_issue(
            "SAM2",
            &fields("Export to CSV drops umlauts", "Open", "Medium", &["export", "i18n"]),
            a,
        )?;
        Ok(())
    })?;
    write(&mut c, "carl", |db, a| {
        let k =
            Embedded::new(db).create_issue("SP2", &fields("Nightly sync job times out", "Open", "Highest", &[]), a)?;
        Embedded::new(db).add_comment(&k, "Started after the upgrade.", None, a)?;
        Ok(())
    })?;
    run_until_quiet(&mut v, &mut c)?;
    write(&mut c, "carl", |db, a| {
        let k = links::by_remote(db, &syncs::list(db)?[0].id, "SAM2-1")?.context("SAM2-1 crossed")?.local_issue_key;
        Embedded::new(db).add_comment(&k, "Also happens for us with Azure AD.", None, a)?;
        Embedded::new(db).update_issue(&k, &FieldChanges { assignee: Some("carl".into()), ..Default::default() }, a)?;
        Ok(())
    })?;
    write(&mut v, "vera", |db, a| {
        Embedded::new(db).update_issue(
            "SAM2-1",
            &FieldChanges { status: Some("In Progress".into()), ..Default::default() },
            a,
        )?;
        let k = links::by_remote(db, &syncs::list(db)?[0].id, "SP2-1")?.context("SP2-1 crossed")?.local_issue_key;
        Embedded::new(db).add_comment(&k, "We are looking into the timeout.", None, a)?;
        Embedded::new(db).update_issue(
            &k,
            &FieldChanges {
                priority: Some("High".into()),
                labels: Some(vec!["performance".into()]),
                ..Default::default()
            },
            a,
        )?;
        Ok(())
    })?;
    let cycles = run_until_quiet(&mut v, &mut c)?;
    println!("4. changes made on both sides; settled after {cycles} cycles\n");

    // 5. Side by side.
    let vs = syncs::list(&v.conn)?.remove(0);
    let cs = syncs::list(&c.conn)?.remove(0);
    println!(
        "{:<8} {:<8} {:<12} {:<9} {:<8} {:<36} agree",
        "vendor", "customer", "status", "priority", "comments", "summary"
    );
    let mut all_agree = true;
    for l in links::all(&v.conn, &vs.id)? {
        let vi = Embedded::new(&v.conn).issue(&l.local_issue_key)?.context("vendor issue")?;
        let remote = l.remote_issue_key.clone().unwrap_or_default();
        let ci = Embedded::new(&c.conn).issue(&remote)?.with_context(|| format!("customer issue {remote}"))?;
        let comments_agree = vi.comments.iter().map(|c| &c.body).eq(ci.comments.iter().map(|c| &c.body));
        let agree = vi.fields == ci.fields && comments_agree;
        all_agree &= agree;
        println!(
            "{:<8} {:<8} {:<12} {:<9} {:<8} {:<36} {}",
            vi.key,
            ci.key,
            vi.fields.status,
            vi.fields.priority,
            vi.comments.len(),
            vi.fields.summary,
            if agree { "yes" } else { "NO" }
        );
    }
    println!(
        "\nvendor sent {} / received {} messages; customer sent {} / received {}; waiting for ack: {} / {}",
        vs.out_seq,
        vs.in_seq,
        cs.out_seq,
        cs.in_seq,
        outbox::pending(&v.conn, &vs.id)?,
        outbox::pending(&c.conn, &cs.id)?
    );
    println!("Done in {:.2?}: both trackers agree.", started.elapsed());
    if !all_agree {
        bail!("the trackers do not agree");
    }
    Ok(())
}
