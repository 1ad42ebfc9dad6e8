//! The shell examples and the demo, run as a user would run them.

use std::process::Command;

fn run_example(script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(format!("{}/examples/{script}", env!("CARGO_MANIFEST_DIR")))
        .arg(dir.path())
        .env("POSTERN", env!("CARGO_BIN_EXE_postern"))
        .env_remove("POSTERN_HOME")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{script}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn network_folder_example_syncs_through_symlinks() {
    let out = run_example("network-folder.sh");
    assert!(out.contains("both sides active"), "{out}");
    assert!(out.contains("Reproduced here too."), "{out}");
    assert!(out.contains("network-folder example: OK"), "{out}");
}

#[test]
fn handshake_by_script_example_runs_without_prompts() {
    let out = run_example("handshake-by-script.sh");
    assert!(out.contains("\"passphrase\""), "{out}");
    assert!(out.contains("Accepted sync 'acme'"), "{out}");
    assert!(out.contains("handshake-by-script example: OK"), "{out}");
}

#[test]
fn demo_converges_and_prints_the_pairs() {
    let out = Command::new(env!("CARGO_BIN_EXE_postern")).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("vendor active, customer active"), "{stdout}");
    for pair in ["SAM2-1", "SAM2-2", "SAM2-3", "SP2-1", "SP2-2", "SP2-3"] {
        assert!(stdout.contains(pair), "{pair} in {stdout}");
    }
    assert!(!stdout.contains(" NO\n"), "{stdout}");
    assert!(stdout.contains("both trackers agree"), "{stdout}");
}

#[test]
fn bench_runs_on_small_data_and_prints_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["bench", "--issues", "20", "--comments", "2", "--changes", "200", "--latency-samples", "3"])
        .args(["--polling-samples", "1", "--baseline", "3", "--attachment-mb", "12"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("initial sync (20 issues, 40 comments)"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout[stdout.find("\n{").unwrap()..]).unwrap();
    for k in [
        "initial_sync_seconds",
        "peak_rss_master_mb",
        "throughput_changes_per_second",
        "latency_notify_p50_ms",
        "latency_polling_p50_ms",
        "baseline_changes_per_second",
        "throughput_ratio_to_baseline",
    ] {
        assert!(json[k].as_f64().unwrap() > 0.0, "{k} in {json}");
    }
    assert_eq!(json["throughput_changes"], 200);
    let a = &json["attachments"][0];
    assert_eq!(a["megabytes"], 12, "{json}");
    assert!(a["messages"].as_u64().unwrap() >= 6, "12 MB goes in chunks of at most 2 MiB: {json}");
    for k in ["seconds", "mb_per_second", "peak_rss_slave_mb", "crypto_bound_mb_per_second", "ratio_to_crypto_bound"] {
        assert!(a[k].as_f64().unwrap() > 0.0, "{k} in {json}");
    }
    assert!(stdout.contains("end to end / crypto bound"), "{stdout}");
}

/// A copy of the repository's layout (`examples/`, `target/release/`) run
/// from another directory, with no POSTERN set: the script finds the
/// binary beside itself, or says how to get one.
#[test]
fn examples_run_from_any_directory() {
    for script in ["network-folder.sh", "handshake-by-script.sh"] {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("examples")).unwrap();
        let copy = repo.path().join("examples").join(script);
        std::fs::copy(format!("{}/examples/{script}", env!("CARGO_MANIFEST_DIR")), &copy).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let run = || {
            Command::new("bash")
                .arg(&copy)
                .arg(elsewhere.path().join("work"))
                .current_dir(elsewhere.path())
                .env_remove("POSTERN")
                .env_remove("POSTERN_HOME")
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        };
        let out = run();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("no postern binary: run `cargo build --release`"), "{script}: {err}");

        std::fs::create_dir_all(repo.path().join("target/release")).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_postern"), repo.path().join("target/release/postern")).unwrap();
        let out = run();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{script}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("example: OK"), "{script}: {stdout}");
    }
}
