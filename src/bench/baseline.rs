//! The baseline: what an admin could script without postern. The same
//! kind of small changes, one per message, each signed and encrypted by a
//! `gpg` call into a folder, then decrypted and verified by a `gpg` call
//! on the other side, in a plain shell pipeline.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::setup::Pair;
use crate::crypto::OwnKey;

pub struct Baseline {
    pub changes_per_second: f64,
    /// Sealing plus opening one change.
    pub latency_ms: f64,
}

const SCRIPT: &str = r#"
set -euo pipefail
S=$1; R=$2; DIR=$3; TO=$4
G=(--batch --yes --no-tty --quiet --trust-model always)
for f in "$DIR"/changes/*.json; do
  gpg --homedir "$S" "${G[@]}" --sign --encrypt -r "$TO" -o "$DIR/folder/$(basename "$f").gpg" "$f"
done
for f in "$DIR"/folder/*.gpg; do
  gpg --homedir "$R" "${G[@]}" --decrypt -o "$DIR/out/$(basename "$f" .gpg)" "$f" 2>/dev/null
done
"#;

fn gpg_home(dir: &std::path::Path, secret: &OwnKey, public: &OwnKey) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(dir)?.permissions(), 0o700);
    use sequoia_openpgp::serialize::SerializeInto;
    let sec = dir.join("secret.asc");
    let public_file = dir.join("public.asc");
    std::fs::write(&sec, secret.cert().as_tsk().armored().to_vec()?)?;
    std::fs::write(&public_file, public.public_armored()?)?;
    let st = Command::new("gpg")
        .arg("--homedir")
        .arg(dir)
        .args(["--batch", "--quiet", "--import"])
        .arg(&sec)
        .arg(&public_file)
        .output()
        .context("gpg (GnuPG) is needed for the baseline")?;
    if !st.status.success() {
        bail!("gpg --import failed: {}", String::from_utf8_lossy(&st.stderr));
    }
    Ok(())
}

pub fn run(pair: &Pair, n: usize) -> Result<Baseline> {
    let dir = pair.root.join("baseline");
    for d in ["changes", "folder", "out"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    let mkey = pair.master.own_key()?.context("master key")?;
    let skey = pair.slave.own_key()?.context("slave key")?;
    let (s, r) = (dir.join("gnupg-sender"), dir.join("gnupg-receiver"));
    gpg_home(&s, &mkey, &skey)?;
    gpg_home(&r, &skey, &mkey)?;
    for i in 0..n {
        let change = serde_json::json!({"type": "issue_updated", "issue": format!("SAM2-{}", i % 100 + 1),
            "fields": {"summary": format!("edit {i}")}, "at": i});
        std::fs::write(dir.join("changes").join(format!("{i:06}.json")), change.to_string())?;
    }
    let start = Instant::now();
    let out = Command::new("bash")
        .args(["-c", SCRIPT, "baseline"])
        .arg(&s)
        .arg(&r)
        .arg(&dir)
        .arg(skey.fingerprint())
        .output()?;
    let elapsed = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("the gpg baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let opened = std::fs::read_dir(dir.join("out"))?.count();
    if opened != n {
        bail!("the gpg baseline opened {opened} of {n} messages");
    }
    for h in [&s, &r] {
        let _ = Command::new("gpgconf").arg("--homedir").arg(h).args(["--kill", "gpg-agent"]).status();
    }
    Ok(Baseline { changes_per_second: n as f64 / elapsed, latency_ms: elapsed * 1000.0 / n as f64 })
}
