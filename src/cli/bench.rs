//! `postern bench`: measure two real peers (see `crate::bench`).

use anyhow::Result;
use clap::Args;

use crate::bench::{self, BenchOptions};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Issues created at once for the initial sync.
    #[arg(long, default_value_t = 10_000)]
    issues: usize,
    /// Comments per issue for the initial sync.
    #[arg(long, default_value_t = 10)]
    comments: usize,
    /// Small edits and comments streamed for the throughput figure.
    #[arg(long, default_value_t = 50_000)]
    changes: usize,
    /// Samples for latency with notify.
    #[arg(long, default_value_t = 200)]
    latency_samples: usize,
    /// Samples for latency with polling only (each takes ~2 s).
    #[arg(long, default_value_t = 20)]
    polling_samples: usize,
    /// Changes sent one per gpg call for the baseline.
    #[arg(long, default_value_t = 200)]
    baseline: usize,
    /// Sizes in MB of the attachments sent in chunks, one run each
    /// (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "50")]
    attachment_mb: Vec<usize>,
    /// Also send attachments of 500 and 2,000 MB (minutes, and 10 GB of
    /// disk; not part of CI).
    #[arg(long)]
    large_attachments: bool,
    /// Only the attachment runs.
    #[arg(long)]
    attachments_only: bool,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
    /// Instead: many syncs in one home, for each count given (e.g.
    /// 1,50,200,500): idle CPU per daemon, change -> applied latency, memory.
    #[arg(long, value_delimiter = ',')]
    syncs: Vec<usize>,
    /// With --syncs: seconds the idle daemons are watched.
    #[arg(long, default_value_t = 20.0)]
    idle_secs: f64,
    /// Instead: an embedded peer and a Redmine peer, against the Redmine
    /// that `scripts/redmine.sh start` describes in this env file
    /// (--issues issues with --comments journals each; --latency-samples).
    #[arg(long, value_name = "ENV_FILE")]
    redmine: Option<std::path::PathBuf>,
    /// Instead: `sync verify` of --issues pairs with --comments each,
    /// embedded on both sides, when both agree and after this many issues
    /// were changed behind postern's back.
    #[arg(long, value_name = "CHANGED")]
    verify: Option<usize>,
}

/// Prints the figures (the table, then JSON) and writes the JSON to
/// `--json-out` if given.
fn emit<F: serde::Serialize>(f: &F, table: impl Fn(&F), out: Option<&std::path::Path>) -> Result<()> {
    table(f);
    let json = serde_json::to_string_pretty(f)?;
    println!("\n{json}");
    if let Some(p) = out {
        std::fs::write(p, json)?;
    }
    Ok(())
}

pub fn run(a: BenchArgs) -> Result<()> {
    let out = a.json_out.as_deref();
    if let Some(changed) = a.verify {
        let f = bench::verify::run(a.issues.max(1), a.comments, changed)?;
        return emit(&f, bench::verify::print_table, out);
    }
    if let Some(env) = &a.redmine {
        let f = bench::redmine::run(env, a.issues.max(1), a.comments, a.latency_samples.max(1))?;
        return emit(&f, bench::redmine::print_table, out);
    }
    if !a.syncs.is_empty() {
        if !(a.idle_secs.is_finite() && a.idle_secs > 0.0) {
            anyhow::bail!("--idle-secs must be positive");
        }
        let f = bench::many::run(&a.syncs, a.latency_samples, std::time::Duration::from_secs_f64(a.idle_secs))?;
        return emit(&f, |f: &Vec<_>| bench::many::print_table(f), out);
    }
    let o = BenchOptions {
        issues: a.issues.max(1),
        comments: a.comments,
        changes: a.changes.max(1),
        latency_samples: a.latency_samples.max(1),
        polling_samples: a.polling_samples.max(1),
        baseline_messages: a.baseline.max(1),
        attachment_mb: {
            let mut sizes = a.attachment_mb.clone();
            if a.large_attachments {
                sizes.extend([500, 2000]);
            }
            sizes
        },
        attachments_only: a.attachments_only,
    };
    emit(&bench::run(&o)?, bench::print_table, out)
}
