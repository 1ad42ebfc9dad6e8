//! The fake Redmine's answers for what does not change: users, the
//! project, roles, statuses, priorities, activities, custom fields.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{ok, status, Call, Fake};

/// What a Developer may do: all a sync needs and is advised to have.
const PERMISSIONS: &[&str] = &[
    "view_issues",
    "add_issues",
    "edit_issues",
    "add_issue_notes",
    "edit_own_issue_notes",
    "edit_issue_notes",
    "view_time_entries",
    "log_time",
    "edit_own_time_entries",
    "edit_time_entries",
    "log_time_for_other_users",
];

pub fn named(id: u64, name: &str) -> Value {
    json!({"id": id, "name": name})
}

pub fn user_ref(f: &Fake, id: u64) -> Value {
    named(id, &f.user(id).map(|u| u.name()).unwrap_or_default())
}

pub fn project_ref(f: &Fake) -> Value {
    named(f.project_id, "Conformance")
}

pub fn current_user(f: &Fake, c: &Call) -> Value {
    let u = &c.user;
    let mut user = json!({
        "id": u.id, "login": u.login, "admin": u.admin, "firstname": u.name.0, "lastname": u.name.1,
        "mail": u.mail, "created_on": "2026-01-05T09:00:00Z", "last_login_on": null,
        "api_key": u.key, "status": 1,
    });
    if c.q("include").is_some_and(|i| i.contains("memberships")) {
        let list: Vec<Value> = u
            .member
            .then(|| json!({"id": 40 + u.id, "project": project_ref(f), "roles": [named(3, "Developer")]}))
            .into_iter()
            .collect();
        user["memberships"] = json!(list);
    }
    json!({ "user": user })
}

/// Another user: the address only to an admin, or where the user shows it
/// (alice does; Redmine's default hides it).
pub fn user(f: &Fake, c: &Call, id: &str) -> Response {
    let Some(u) = id.parse().ok().and_then(|id| f.user(id)) else { return status(StatusCode::NOT_FOUND) };
    let mut v = json!({"id": u.id, "login": u.login, "firstname": u.name.0, "lastname": u.name.1,
        "created_on": "2026-01-05T09:00:00Z"});
    if c.user.admin || u.login == "alice" {
        v["mail"] = json!(u.mail);
    }
    ok(json!({ "user": v }))
}

pub fn project(f: &Fake, c: &Call, id: &str) -> Response {
    if id != super::PROJECT && id != f.project_id.to_string() {
        return status(StatusCode::NOT_FOUND);
    }
    if !c.user.member && !c.user.admin {
        return status(StatusCode::FORBIDDEN);
    }
    let mut modules = vec![named(10, "issue_tracking")];
    if f.time_tracking {
        modules.push(named(11, "time_tracking"));
    }
    let p = json!({
        "id": f.project_id, "name": "Conformance", "identifier": super::PROJECT, "description": "",
        "status": 1, "is_public": false, "inherit_members": false,
        "trackers": f.trackers.iter().map(|(i, n)| named(*i, n)).collect::<Vec<_>>(),
        "issue_custom_fields": f.custom_fields.iter().map(|(i, n)| named(*i, n)).collect::<Vec<_>>(),
        "enabled_modules": modules,
        "time_entry_activities": activities(f)["time_entry_activities"],
        "created_on": "2026-01-05T09:00:00Z", "updated_on": "2026-01-05T09:00:00Z",
    });
    ok(json!({ "project": p }))
}

pub fn memberships(f: &Fake) -> Value {
    let list: Vec<Value> = f
        .users
        .iter()
        .filter(|u| u.member)
        .map(|u| {
            json!({"id": 40 + u.id, "project": project_ref(f), "user": named(u.id, &u.name()),
            "roles": [named(3, "Developer")]})
        })
        .collect();
    json!({"memberships": list, "total_count": list.len(), "offset": 0, "limit": 100})
}

pub fn role() -> Value {
    json!({"role": {"id": 3, "name": "Developer", "assignable": true, "issues_visibility": "default",
        "time_entries_visibility": "all", "users_visibility": "all", "permissions": PERMISSIONS}})
}

pub fn statuses(f: &Fake) -> Value {
    let list: Vec<Value> =
        f.statuses.iter().map(|(i, n, closed)| json!({"id": i, "name": n, "is_closed": closed})).collect();
    json!({ "issue_statuses": list })
}

pub fn priorities(f: &Fake) -> Value {
    let list: Vec<Value> = f
        .priorities
        .iter()
        .map(|(i, n)| json!({"id": i, "name": n, "is_default": *n == "Normal", "active": true}))
        .collect();
    json!({ "issue_priorities": list })
}

pub fn activities(f: &Fake) -> Value {
    let list: Vec<Value> = f
        .activities
        .iter()
        .map(|(i, n)| json!({"id": i, "name": n, "is_default": *n == "Development", "active": true}))
        .collect();
    json!({ "time_entry_activities": list })
}

/// Administration's list (an admin's).
pub fn custom_fields(f: &Fake) -> Value {
    let list: Vec<Value> = f
        .custom_fields
        .iter()
        .map(|(i, n)| {
            json!({"id": i, "name": n, "customized_type": "issue", "field_format": "string", "regexp": "",
                "min_length": null, "max_length": null, "is_required": false, "is_filter": false,
                "searchable": false, "multiple": false, "default_value": "", "visible": true,
                "trackers": f.trackers.iter().map(|(i, n)| named(*i, n)).collect::<Vec<_>>(), "roles": []})
        })
        .collect();
    json!({ "custom_fields": list })
}
