//! The throw-away Redmine that `scripts/redmine.sh start` made: its env
//! file is named by `POSTERN_REDMINE_ENV`.

use std::collections::HashMap;

use postern::tracker::redmine::RedmineSettings;
use postern::transport::mail::Password;

pub struct Server {
    pub env: HashMap<String, String>,
    pub dir: std::path::PathBuf,
    /// One test at a time uses the server (one of them stops it).
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn server() -> Server {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let path = std::env::var("POSTERN_REDMINE_ENV").expect(
        "POSTERN_REDMINE_ENV names the env file of `scripts/redmine.sh start` (the integration script sets it)",
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let env = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect();
    Server { env, dir: std::path::Path::new(&path).parent().unwrap().to_path_buf(), _serial: serial }
}

impl Server {
    pub fn get(&self, k: &str) -> &str {
        self.env.get(k).unwrap_or_else(|| panic!("{k} in the Redmine env file"))
    }

    pub fn url(&self) -> &str {
        self.get("REDMINE_URL")
    }

    /// Settings for `project` with the key of `who` (SYNC or ALICE).
    pub fn settings(&self, project: &str, who: &str) -> RedmineSettings {
        RedmineSettings {
            url: self.url().into(),
            project: project.into(),
            api_key: Password::Value(self.get(&format!("REDMINE_{who}_KEY")).into()),
            ca_file: None,
            labels_field: None,
            statuses: Default::default(),
            priorities: Default::default(),
            rescan_secs: 0,
            timeout_secs: 60,
        }
    }

    /// A request with the admin's key; the JSON answer.
    pub fn admin(&self, method: &str, path: &str, body: Option<&str>) -> serde_json::Value {
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-sS", "-X", method, "-H", "Content-Type: application/json"])
            .arg("-H")
            .arg(format!("X-Redmine-API-Key: {}", self.get("REDMINE_ADMIN_KEY")))
            .arg(format!("{}{path}", self.url()));
        if let Some(b) = body {
            cmd.args(["--data-binary", b]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "curl {method} {path}");
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Stops the server (its data stays) and starts it again on drop.
    pub fn stopped(&self) -> Stopped<'_> {
        let ok = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redmine.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(ok.success());
        Stopped(self)
    }
}

pub struct Stopped<'a>(&'a Server);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let port = self.0.url().rsplit(':').next().unwrap().to_string();
        let ok = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redmine.sh"))
            .args(["restart"])
            .arg(&self.0.dir)
            .arg(port)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "redmine restarted");
    }
}

impl Server {
    /// A fresh project (identifier `prefix-<random>`) with syncbot and
    /// alice as developers; returns its identifier.
    pub fn new_project(&self, prefix: &str) -> String {
        self.new_project_with(prefix, "1,2")
    }

    /// As [`Server::new_project`], with these tracker ids enabled.
    pub fn new_project_with(&self, prefix: &str, trackers: &str) -> String {
        self.new_project_as(prefix, trackers, "Developer")
    }

    /// As [`Server::new_project_with`], the sync user with role `role`
    /// (alice stays a developer).
    pub fn new_project_as(&self, prefix: &str, trackers: &str, role: &str) -> String {
        let id = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let body = format!(
            r#"{{"project":{{"name":"{id}","identifier":"{id}","is_public":false,"enabled_module_names":["issue_tracking","time_tracking"],"tracker_ids":[{trackers}],"issue_custom_field_ids":[{},{},{}]}}}}"#,
            self.get("REDMINE_LABELS_FIELD_ID"),
            self.get("REDMINE_TAGS_FIELD_ID"),
            self.get("REDMINE_ID_FIELD_IDS")
        );
        let created = self.admin("POST", "/projects.json", Some(&body));
        assert!(created["project"]["id"].is_u64(), "{created}");
        let roles = self.admin("GET", "/roles.json", None);
        let role_id =
            |name: &str| roles["roles"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].clone();
        for (user, role) in [(self.get("REDMINE_SYNC_USER_ID"), role), (self.get("REDMINE_ALICE_USER_ID"), "Developer")]
        {
            let m = format!(r#"{{"membership":{{"user_id":{user},"role_ids":[{}]}}}}"#, role_id(role));
            self.admin("POST", &format!("/projects/{id}/memberships.json"), Some(&m));
        }
        id
    }

    /// The issues of `project`, each with journals and attachments.
    pub fn issues(&self, project: &str) -> Vec<serde_json::Value> {
        let list = self.admin("GET", &format!("/issues.json?project_id={project}&status_id=*&limit=100&sort=id"), None);
        list["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                self.admin("GET", &format!("/issues/{}.json?include=journals,attachments", i["id"]), None)["issue"]
                    .clone()
            })
            .collect()
    }

    /// Notes of an issue's journals that have any.
    pub fn notes(issue: &serde_json::Value) -> Vec<String> {
        issue["journals"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|j| j["notes"].as_str().filter(|n| !n.is_empty()).map(String::from))
            .collect()
    }

    /// A request with alice's key (a person working in Redmine).
    pub fn alice(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let out = std::process::Command::new("curl")
            .args(["-sS", "-X", method, "-H", "Content-Type: application/json", "-H"])
            .arg(format!("X-Redmine-API-Key: {}", self.get("REDMINE_ALICE_KEY")))
            .arg(format!("{}{path}", self.url()))
            .args(["--data-binary", body])
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// [`Server::flags`] with the name tables the tests use (the embedded
    /// side's Open, Done and Medium as Redmine's New, Closed and Normal).
    pub fn mapped_flags(&self) -> Vec<String> {
        let mut f = self.flags();
        f.extend(["--status-map", "Open=New,Done=Closed", "--priority-map", "Medium=Normal"].map(String::from));
        f
    }

    /// An embedded master (SAM2) and a Redmine slave on `project`, paired
    /// as sync `acme` with [`Server::mapped_flags`] and `extra` accept
    /// flags, settled.
    pub fn paired(&self, project: &str, extra: &[&str]) -> (super::TestPeer, super::TestPeer) {
        let (m, s) =
            (super::TestPeer::new(super::MASTER_KEY, "SAM2"), super::TestPeer::new(super::SLAVE_KEY, "UNUSED"));
        let flags = self.mapped_flags();
        let accept: Vec<&str> = flags.iter().map(String::as_str).chain(extra.iter().copied()).collect();
        super::pair_with(&m, &s, "acme", "SAM2", project, &[], &accept);
        super::settle(&m, &s, "acme");
        (m, s)
    }

    /// `sync accept`/`create` flags for a Redmine side on `project`.
    pub fn flags(&self) -> Vec<String> {
        ["--tracker", "redmine", "--redmine-url", self.url(), "--redmine-key", self.get("REDMINE_SYNC_KEY")]
            .map(String::from)
            .to_vec()
    }
}
