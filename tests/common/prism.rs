//! Stoplight Prism in front of a fake tracker (the contract tests of the
//! Jira and GitHub backends).

/// Stoplight Prism in proxy mode in front of the fake, with `--errors`: a
/// request the specification does not allow is refused (422) and an answer
/// it does not allow becomes a 500, so either fails the test. Binary bodies
/// do not pass through Prism intact: the suite sends text attachments then.
pub struct Prism {
    child: std::process::Child,
    pub url: String,
}

impl Prism {
    /// Prism with `spec`, of the folder the variable `dir_var` names (a
    /// contract script's `install DIR`), in front of `upstream`.
    pub fn start(dir_var: &str, spec: &str, upstream: &str) -> Prism {
        let dir =
            std::env::var(dir_var).unwrap_or_else(|_| panic!("{dir_var}: the folder of scripts/*-contract.sh install"));
        let dir = std::path::Path::new(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(std::env::temp_dir().join(format!("prism-{port}.log"))).unwrap();
        let child = std::process::Command::new(dir.join("node_modules/.bin/prism"))
            .args(["proxy", "--errors", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(dir.join(spec))
            .arg(upstream)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prism");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "Prism did not start (see prism-{port}.log)");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Prism { child, url }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
