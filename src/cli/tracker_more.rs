//! `postern worklog|user` and the issue fields beyond the first six
//! (`--type`, `--due`, `--field`): the embedded tracker by hand.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::Who;
use crate::home::Home;
use crate::protocol::FieldChanges;
use crate::tracker::{Actor, Embedded, Issue, NewWorklog, Reads, Writes};

/// Issue type, due date and custom fields, for `issue create|edit`.
#[derive(Debug, Args)]
pub struct MoreFields {
    /// Issue type (e.g. Bug, Feature); must be one of the project's types.
    #[arg(long = "type")]
    issue_type: Option<String>,
    /// Due date, YYYY-MM-DD; empty for none.
    #[arg(long)]
    due: Option<String>,
    /// A custom field, NAME=VALUE (repeat for several; an empty value
    /// clears it).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    fields: Vec<String>,
}

impl MoreFields {
    /// The changes these flags make (the other fields unset).
    pub fn changes(&self) -> Result<FieldChanges> {
        let mut custom = BTreeMap::new();
        for f in &self.fields {
            let Some((name, value)) = f.split_once('=') else {
                bail!("--field {f:?} is not NAME=VALUE");
            };
            if name.trim().is_empty() {
                bail!("--field {f:?} has no name");
            }
            if custom.insert(name.trim().to_string(), value.trim().to_string()).is_some() {
                bail!("--field {name:?} is given twice");
            }
        }
        Ok(FieldChanges {
            issue_type: self.issue_type.clone(),
            due_date: self.due.clone(),
            custom,
            ..Default::default()
        })
    }
}

/// The fields of `issue show` beyond the first six.
pub fn show_more(i: &Issue) {
    let f = &i.fields;
    if f.issue_type.is_some() || f.due_date.is_some() {
        println!("type: {}  due: {}", f.issue_type.as_deref().unwrap_or("-"), f.due_date.as_deref().unwrap_or("-"));
    }
    for (name, value) in &f.custom {
        println!("{name}: {value}");
    }
    for w in &i.worklogs {
        let by = match &w.on_behalf_of {
            Some(o) => format!("{} (for {o})", w.author),
            None => w.author.clone(),
        };
        println!("worklog {}: {} min on {} by {by}: {}", w.id, w.minutes, w.spent_on, w.comment);
    }
}

#[derive(Debug, Args)]
pub struct WorklogArgs {
    /// Minutes spent.
    #[arg(long)]
    minutes: u32,
    /// The day, YYYY-MM-DD (default: today).
    #[arg(long)]
    on: Option<String>,
    /// What the time was spent on.
    #[arg(long)]
    comment: Option<String>,
}

/// `worklog edit`: what is not given stays.
#[derive(Debug, Args)]
pub struct WorklogChange {
    /// Minutes spent.
    #[arg(long)]
    minutes: Option<u32>,
    /// The day, YYYY-MM-DD.
    #[arg(long)]
    on: Option<String>,
    /// What the time was spent on.
    #[arg(long)]
    comment: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorklogCmd {
    /// Log time on an issue; prints the worklog's id.
    Add {
        issue: String,
        #[command(flatten)]
        w: WorklogArgs,
        #[command(flatten)]
        who: Who,
    },
    /// Change a worklog: its minutes, day or comment (what is not given
    /// stays).
    Edit {
        issue: String,
        id: String,
        #[command(flatten)]
        w: WorklogChange,
        #[command(flatten)]
        who: Who,
    },
    /// Delete a worklog.
    Delete {
        issue: String,
        id: String,
        #[command(flatten)]
        who: Who,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user or change their e-mail address. Once any user is added,
    /// only users listed may be assignees or log time.
    Add {
        /// The user's name, as issues and worklogs show it.
        name: String,
        /// The user's e-mail address: mappings match the partner's users by
        /// it (one user per address).
        #[arg(long)]
        email: Option<String>,
    },
    /// List the users.
    List,
}

pub fn worklog(home: &Home, cmd: WorklogCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    let tx = conn.transaction()?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let id = match &cmd {
        WorklogCmd::Add { issue, w, who } => {
            let new = NewWorklog {
                user: None,
                minutes: w.minutes,
                spent_on: w.on.as_deref().unwrap_or(&today),
                comment: w.comment.as_deref().unwrap_or_default(),
            };
            Embedded::new(&tx).add_worklog(issue, &new, None, Actor::person(&who.name()))?
        }
        WorklogCmd::Edit { issue, id, w, who } => {
            if w.minutes.is_none() && w.on.is_none() && w.comment.is_none() {
                bail!("nothing to change: give --minutes, --on or --comment");
            }
            let i = Embedded::new(&tx).issue(issue)?.with_context(|| format!("issue {issue} does not exist"))?;
            let old = i.worklogs.iter().find(|x| x.id == *id);
            let old = old.with_context(|| format!("issue {issue} has no worklog {id}"))?;
            let new = NewWorklog {
                user: None,
                minutes: w.minutes.unwrap_or(old.minutes),
                spent_on: w.on.as_deref().unwrap_or(&old.spent_on),
                comment: w.comment.as_deref().unwrap_or(&old.comment),
            };
            Embedded::new(&tx).edit_worklog(issue, id, &new, Actor::person(&who.name()))?;
            id.clone()
        }
        WorklogCmd::Delete { issue, id, who } => {
            Embedded::new(&tx).delete_worklog(issue, id, Actor::person(&who.name()))?;
            id.clone()
        }
    };
    tx.commit()?;
    println!("{id}");
    Ok(())
}

pub fn user(home: &Home, cmd: UserCmd) -> Result<()> {
    let conn = home.open_db()?;
    match cmd {
        UserCmd::Add { name, email } => {
            if let Some(e) = &email {
                if !e.contains('@') {
                    bail!("--email {e:?} is not an e-mail address");
                }
            }
            Embedded::new(&conn).set_user(&name, email.as_deref()).context("cannot add the user")?;
            println!("{name}");
        }
        UserCmd::List => {
            let users = Embedded::new(&conn).users()?;
            super::say_if_empty(users.len(), "no users: any name is taken as an assignee");
            for u in users {
                println!("{}\t{}", u.name, u.email.as_deref().unwrap_or("-"));
            }
        }
    }
    Ok(())
}
