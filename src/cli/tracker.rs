//! `postern project|issue|comment`: the embedded tracker by hand.

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use super::{print_json, Who};
use crate::home::Home;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::embedded::{DEFAULT_PRIORITY, DEFAULT_STATUS};
use crate::tracker::{Actor, Embedded, Issue, Reads, Writes};

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Create a project; prints its key.
    Create {
        /// Project key: upper-case letters and digits, e.g. SAM2.
        key: String,
        /// A longer name to show (default: the key).
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated statuses the project allows (default: any).
        #[arg(long, value_delimiter = ',')]
        statuses: Option<Vec<String>>,
        /// Comma-separated priorities the project allows (default: any).
        #[arg(long, value_delimiter = ',')]
        priorities: Option<Vec<String>>,
        /// Comma-separated issue types the project allows (default: any).
        #[arg(long, value_delimiter = ',')]
        types: Option<Vec<String>>,
    },
    /// Rename a project, or change the statuses, priorities or types it
    /// allows.
    Edit {
        /// The project's key, e.g. SAM2.
        key: String,
        /// The name to show.
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated statuses; empty to allow any.
        #[arg(long)]
        statuses: Option<String>,
        /// Comma-separated priorities; empty to allow any.
        #[arg(long)]
        priorities: Option<String>,
        /// Comma-separated issue types; empty to allow any.
        #[arg(long)]
        types: Option<String>,
    },
    /// List projects.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IssueCmd {
    /// Create an issue; prints its key.
    Create {
        /// The project the issue belongs to.
        #[arg(long)]
        project: String,
        /// One-line summary.
        #[arg(long)]
        summary: String,
        /// Longer description (plain text or markdown).
        #[arg(long, default_value = "")]
        description: String,
        /// Status; must be one of the project's statuses.
        #[arg(long, default_value = DEFAULT_STATUS)]
        status: String,
        /// Priority.
        #[arg(long, default_value = DEFAULT_PRIORITY)]
        priority: String,
        /// A label (repeat for several).
        #[arg(long = "label")]
        labels: Vec<String>,
        /// Who works on it (a user name).
        #[arg(long)]
        assignee: Option<String>,
        #[command(flatten)]
        more: super::tracker_more::MoreFields,
        #[command(flatten)]
        who: Who,
    },
    /// Change fields of an issue; prints its key.
    Edit {
        key: String,
        /// One-line summary.
        #[arg(long)]
        summary: Option<String>,
        /// Longer description (plain text or markdown).
        #[arg(long)]
        description: Option<String>,
        /// Status; must be one of the project's statuses.
        #[arg(long)]
        status: Option<String>,
        /// Priority.
        #[arg(long)]
        priority: Option<String>,
        /// Replace the labels (comma-separated; empty for none).
        #[arg(long)]
        labels: Option<String>,
        /// New assignee; empty to unassign.
        #[arg(long)]
        assignee: Option<String>,
        #[command(flatten)]
        more: super::tracker_more::MoreFields,
        #[command(flatten)]
        who: Who,
    },
    /// List the issues of a project.
    List {
        /// The project whose issues to list.
        #[arg(long)]
        project: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show one issue with its comments.
    Show {
        key: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CommentCmd {
    /// Add a comment; prints its id.
    Add {
        issue: String,
        /// The comment's text.
        #[arg(long)]
        body: String,
        #[command(flatten)]
        who: Who,
    },
    /// Change a comment's text.
    Edit {
        issue: String,
        id: String,
        /// The comment's new text.
        #[arg(long)]
        body: String,
        #[command(flatten)]
        who: Who,
    },
    /// Delete a comment.
    Delete {
        issue: String,
        id: String,
        #[command(flatten)]
        who: Who,
    },
}

pub fn project(home: &Home, cmd: ProjectCmd) -> Result<()> {
    let conn = home.open_db()?;
    match cmd {
        ProjectCmd::Create { key, name, statuses, priorities, types } => {
            for (flag, list) in [("statuses", &statuses), ("priorities", &priorities), ("types", &types)] {
                if list.as_ref().is_some_and(|l| l.iter().any(|s| s.trim().is_empty())) {
                    bail!("--{flag} contains an empty name");
                }
            }
            let tx = conn.unchecked_transaction()?;
            Embedded::new(&tx).create_project(&key, name.as_deref().unwrap_or(&key), statuses.as_deref())?;
            Embedded::new(&tx).set_allowed(&key, "priorities", priorities.as_deref())?;
            Embedded::new(&tx).set_allowed(&key, "types", types.as_deref())?;
            tx.commit()?;
            println!("{key}");
        }
        ProjectCmd::Edit { key, name, statuses, priorities, types } => {
            let lists = [("statuses", statuses), ("priorities", priorities), ("types", types)];
            if name.is_none() && lists.iter().all(|(_, l)| l.is_none()) {
                bail!("nothing to change: give --name, --statuses, --priorities or --types");
            }
            let tx = conn.unchecked_transaction()?;
            if let Some(name) = name {
                Embedded::new(&tx).set_project_name(&key, &name)?;
            }
            for (column, list) in lists {
                let Some(list) = list else { continue };
                let list: Vec<String> =
                    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
                Embedded::new(&tx).set_allowed(&key, column, (!list.is_empty()).then_some(list.as_slice()))?;
            }
            tx.commit()?;
            println!("{key}");
        }
        ProjectCmd::List { json } => {
            let projects = Embedded::new(&conn).projects()?;
            if json {
                return print_json(&projects);
            }
            super::say_if_empty(projects.len(), "no projects in the embedded tracker");
            for p in projects {
                println!("{}\t{}\t{}", p.key, p.name, super::plural(p.issues, "issue", "issues"));
            }
        }
    }
    Ok(())
}

fn must_exist(conn: &rusqlite::Connection, key: &str) -> Result<Issue> {
    Embedded::new(conn).issue(key)?.with_context(|| format!("issue {key} does not exist"))
}

pub fn issue(home: &Home, cmd: IssueCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    match cmd {
        IssueCmd::Create { project, summary, description, status, priority, labels, assignee, more, who } => {
            let user = who.name();
            let c = more.changes()?;
            let fields = IssueFields {
                summary,
                description,
                status,
                priority,
                labels,
                assignee,
                issue_type: c.issue_type,
                due_date: c.due_date.filter(|d| !d.is_empty()),
                custom: c.custom,
                assignee_email: None,
            };
            let tx = conn.transaction()?;
            let key = Embedded::new(&tx).create_issue(&project, &fields, Actor::person(&user))?;
            tx.commit()?;
            println!("{key}");
        }
        IssueCmd::Edit { key, summary, description, status, priority, labels, assignee, more, who } => {
            let user = who.name();
            let labels =
                labels.map(|l| l.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect());
            let changes = FieldChanges { summary, description, status, priority, labels, assignee, ..more.changes()? };
            if changes.is_empty() {
                bail!("nothing to change: give at least one of --summary, --description, --status, --priority, --labels, --assignee, --type, --due, --field");
            }
            let tx = conn.transaction()?;
            Embedded::new(&tx).update_issue(&key, &changes, Actor::person(&user))?;
            tx.commit()?;
            println!("{key}");
        }
        IssueCmd::List { project, json } => {
            if Embedded::new(&conn).project(&project)?.is_none() {
                bail!("project {project} does not exist");
            }
            let issues = Embedded::new(&conn)
                .issue_keys(&project)?
                .iter()
                .map(|k| must_exist(&conn, k))
                .collect::<Result<Vec<_>>>()?;
            if json {
                return print_json(&issues);
            }
            super::say_if_empty(issues.len(), &format!("no issues in project {project}"));
            for i in issues {
                println!("{}\t{}\t{}\t{}", i.key, i.fields.status, i.fields.priority, i.fields.summary);
            }
        }
        IssueCmd::Show { key, json } => {
            let i = must_exist(&conn, &key)?;
            if json {
                return print_json(&i);
            }
            println!("{}  {}", i.key, i.fields.summary);
            println!(
                "status: {}  priority: {}  assignee: {}",
                i.fields.status,
                i.fields.priority,
                i.fields.assignee.as_deref().unwrap_or("-")
            );
            println!("labels: {}", i.fields.labels.join(", "));
            super::tracker_more::show_more(&i);
            if !i.fields.description.is_empty() {
                println!("\n{}", i.fields.description);
            }
            for c in &i.comments {
                let by = match &c.on_behalf_of {
                    Some(o) => format!("{} (for {o})", c.author),
                    None => c.author.clone(),
                };
                println!("\n#{} {by}:\n{}", c.id, c.body);
            }
            for a in &i.attachments {
                println!("\nattachment {}: {} ({} bytes, {})", a.id, a.filename, a.size, a.media_type);
            }
        }
    }
    Ok(())
}

pub fn comment(home: &Home, cmd: CommentCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    let tx = conn.transaction()?;
    match cmd {
        CommentCmd::Add { issue, body, who } => {
            let user = who.name();
            let id = Embedded::new(&tx).add_comment(&issue, &body, None, Actor::person(&user))?;
            tx.commit()?;
            println!("{id}");
        }
        CommentCmd::Edit { issue, id, body, who } => {
            let user = who.name();
            Embedded::new(&tx).edit_comment(&issue, &id, &body, Actor::person(&user))?;
            tx.commit()?;
            println!("{id}");
        }
        CommentCmd::Delete { issue, id, who } => {
            let user = who.name();
            Embedded::new(&tx).delete_comment(&issue, &id, Actor::person(&user))?;
            tx.commit()?;
            println!("{id}");
        }
    }
    Ok(())
}
