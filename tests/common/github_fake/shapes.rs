//! The fake GitHub's objects whole, as GitHub's description requires
//! them (Prism checks each answer): what postern reads is the fake's
//! state; the rest (links, counts) is filled as GitHub fills it.

use serde_json::{json, Map, Value};

use super::Fake;

/// Link fields: each `name` → `{base}/{path}/{name without _url}`.
fn links(out: &mut Map<String, Value>, base: &str, names: &[&str]) {
    for n in names {
        out.insert(n.to_string(), json!(format!("{base}/{}", n.trim_end_matches("_url"))));
    }
}

fn merge(mut into: Value, more: Map<String, Value>) -> Value {
    if let Some(o) = into.as_object_mut() {
        for (k, v) in more {
            o.entry(k).or_insert(v);
        }
    }
    into
}

/// A `simple-user`.
pub fn user(f: &Fake, u: usize) -> Value {
    let login = &f.logins[u];
    let kind = if login.ends_with("[bot]") { "Bot" } else { "User" };
    let base = format!("{}/users/{login}", f.base_url);
    let mut m = Map::new();
    links(
        &mut m,
        &base,
        &[
            "events_url",
            "followers_url",
            "following_url",
            "gists_url",
            "organizations_url",
            "received_events_url",
            "repos_url",
            "starred_url",
            "subscriptions_url",
        ],
    );
    merge(
        json!({"login": login, "id": 100 + u, "node_id": format!("U_{u}"), "type": kind, "site_admin": false,
            "url": base, "html_url": format!("https://github.test/{login}"), "gravatar_id": "",
            "avatar_url": format!("https://avatars.github.test/u/{}", 100 + u)}),
        m,
    )
}

/// The signed-in user (`private-user`).
pub fn private_user(f: &Fake, u: usize) -> Value {
    let t = Fake::time(0);
    merge(
        user(f, u),
        json!({"bio": null, "blog": "", "company": null, "email": null, "followers": 0, "following": 0,
            "hireable": null, "location": null, "name": f.logins[u], "public_gists": 0, "public_repos": 0,
            "created_at": t, "updated_at": t, "collaborators": 0, "disk_usage": 0, "owned_private_repos": 0,
            "private_gists": 0, "total_private_repos": 0, "two_factor_authentication": true})
        .as_object()
        .cloned()
        .unwrap_or_default(),
    )
}

/// The repository (`full-repository`).
pub fn repository(f: &Fake) -> Value {
    let full = format!("{}/{}", f.owner, f.repo);
    let base = format!("{}/repos/{full}", f.base_url);
    let mut owner = user(f, 0);
    owner["login"] = json!(f.owner);
    owner["id"] = json!(9);
    owner["type"] = json!(if f.org { "Organization" } else { "User" });
    let t = Fake::time(0);
    let mut m = Map::new();
    links(
        &mut m,
        &base,
        &[
            "archive_url",
            "assignees_url",
            "blobs_url",
            "branches_url",
            "collaborators_url",
            "comments_url",
            "commits_url",
            "compare_url",
            "contents_url",
            "contributors_url",
            "deployments_url",
            "downloads_url",
            "events_url",
            "forks_url",
            "git_commits_url",
            "git_refs_url",
            "git_tags_url",
            "hooks_url",
            "issue_comment_url",
            "issue_events_url",
            "issues_url",
            "keys_url",
            "labels_url",
            "languages_url",
            "merges_url",
            "milestones_url",
            "notifications_url",
            "pulls_url",
            "releases_url",
            "stargazers_url",
            "statuses_url",
            "subscribers_url",
            "subscription_url",
            "tags_url",
            "teams_url",
            "trees_url",
        ],
    );
    let counts = ["forks", "forks_count", "stargazers_count", "watchers", "watchers_count", "size", "open_issues"];
    for n in counts.iter().chain(&["open_issues_count", "network_count", "subscribers_count"]) {
        m.insert(n.to_string(), json!(0));
    }
    for n in ["has_projects", "has_wiki", "has_pages", "has_discussions", "has_downloads", "archived", "disabled"] {
        m.insert(n.to_string(), json!(false));
    }
    for n in ["mirror_url", "homepage", "language", "license"] {
        m.insert(n.to_string(), Value::Null);
    }
    for n in ["pushed_at", "created_at", "updated_at"] {
        m.insert(n.to_string(), json!(t));
    }
    merge(
        json!({"id": 77, "node_id": "R_77", "name": f.repo, "full_name": full, "private": true, "owner": owner,
            "description": "Support cases", "fork": false, "url": base,
            "html_url": format!("https://github.test/{full}"), "clone_url": format!("https://github.test/{full}.git"),
            "git_url": format!("git://github.test/{full}.git"), "ssh_url": format!("git@github.test:{full}.git"),
            "svn_url": format!("https://github.test/{full}"), "default_branch": "main", "has_issues": f.has_issues,
            "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}}),
        m,
    )
}

/// A `milestone`.
pub fn milestone(f: &Fake, number: u64, title: &str) -> Value {
    let t = Fake::time(0);
    let base = format!("{}/repos/{}/{}/milestones/{number}", f.base_url, f.owner, f.repo);
    json!({"id": 500 + number, "node_id": format!("MI_{number}"), "number": number, "title": title,
        "state": "open", "description": null, "creator": user(f, 1), "open_issues": 0, "closed_issues": 0,
        "created_at": t, "updated_at": t, "closed_at": null, "due_on": null, "url": base,
        "html_url": format!("https://github.test/{}/{}/milestone/{number}", f.owner, f.repo),
        "labels_url": format!("{base}/labels")})
}

/// A `label`.
pub fn label(f: &Fake, n: usize, name: &str) -> Value {
    json!({"id": 700 + n, "node_id": format!("LA_{n}"), "name": name, "color": "ededed", "default": false,
        "description": null,
        "url": format!("{}/repos/{}/{}/labels/{}", f.base_url, f.owner, f.repo, postern::tracker::remote::http::encode(name))})
}

/// An `issue-type`.
pub fn issue_type(i: usize, name: &str) -> Value {
    json!({"id": 30 + i, "node_id": format!("IT_{i}"), "name": name, "description": null, "color": "gray",
        "is_enabled": true})
}

/// An `installation` of the App on the repository's owner.
pub fn installation(f: &Fake) -> Value {
    let t = Fake::time(0);
    json!({"id": 31, "app_id": 4242, "app_slug": "postern-app", "target_id": 9, "target_type": "Organization",
        "single_file_name": null, "repository_selection": "selected",
        "access_tokens_url": format!("{}/app/installations/31/access_tokens", f.base_url),
        "html_url": "https://github.test/organizations/example/settings/installations/31",
        "repositories_url": format!("{}/installation/repositories", f.base_url),
        "events": ["issues", "issue_comment"], "account": user(f, 0),
        "permissions": {"issues": "write", "metadata": "read"},
        "created_at": t, "updated_at": t, "suspended_by": null, "suspended_at": null})
}

/// An issue event (`issue-event-for-issue`): what it needs besides its
/// common fields (the label, the assignee, the old and new title, …).
pub fn event(f: &Fake, e: &super::Event, detail: Value) -> Value {
    let base = format!("{}/repos/{}/{}/issues/events/{}", f.base_url, f.owner, f.repo, e.id);
    merge(
        detail,
        json!({"id": e.id, "node_id": format!("E_{}", e.id), "url": base, "actor": user(f, e.actor),
            "event": e.event, "commit_id": null, "commit_url": null, "created_at": Fake::time(e.created),
            "performed_via_github_app": null})
        .as_object()
        .cloned()
        .unwrap_or_default(),
    )
}
