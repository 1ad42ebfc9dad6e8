use super::*;
use crate::tracker::Vocabulary;

const GOOD: &str = r#"
[status]
"In Review" = "In Progress"
"In Progress" = "In Progress"
Done = "Closed"
[send.status]
"In Progress" = "In Progress"
[priority]
Urgent = "Immediate"
[type]
Task = "Feature"
[fields]
"Customer ref" = "Ticket ref"
[users]
fallback = "Sync Bot"
[users.table]
"vera@vendor.example" = "Vera Redmine"
"Bob Builder" = "Robert B"
"#;

fn users() -> Vec<User> {
    vec![
        User { name: "Ann Admin".into(), email: Some("ann@customer.example".into()), id: None },
        User { name: "Sync Bot".into(), email: None, id: None },
        User { name: "Vera Redmine".into(), email: None, id: None },
        User { name: "Robert B".into(), email: None, id: None },
    ]
}

#[test]
fn names_map_in_and_back_out() {
    let m = Mapping::parse(GOOD).unwrap();
    let mut c = FieldChanges {
        status: Some("In Review".into()),
        priority: Some("Urgent".into()),
        issue_type: Some("Task".into()),
        custom: [("Customer ref".to_string(), "CR-7".to_string())].into(),
        assignee: Some("Bob Builder".into()),
        ..Default::default()
    };
    m.incoming(&mut c, || panic!("the table names the user")).unwrap();
    assert_eq!(c.status.as_deref(), Some("In Progress"));
    assert_eq!(c.priority.as_deref(), Some("Immediate"));
    assert_eq!(c.issue_type.as_deref(), Some("Feature"));
    assert_eq!(c.custom["Ticket ref"], "CR-7");
    assert_eq!(c.assignee.as_deref(), Some("Robert B"));
    m.outgoing(&mut c);
    // Two partner names map to "In Progress": [send.status] says which.
    assert_eq!(c.status.as_deref(), Some("In Progress"));
    assert_eq!(c.priority.as_deref(), Some("Urgent"));
    assert_eq!(c.custom["Customer ref"], "CR-7");
    // Not listed: as it is, both ways.
    let mut c = FieldChanges { status: Some("Open".into()), ..Default::default() };
    m.incoming(&mut c, || Ok(None)).unwrap();
    assert_eq!(c.status.as_deref(), Some("Open"));
}

#[test]
fn users_map_by_table_address_name_then_fallback() {
    let m = Mapping::parse(GOOD).unwrap();
    let u = users();
    assert_eq!(m.user("Vera V", Some("vera@vendor.example"), Some(&u)).unwrap(), "Vera Redmine");
    assert_eq!(m.user("Ann at home", Some("ANN@customer.example"), Some(&u)).unwrap(), "Ann Admin");
    assert_eq!(m.user("Ann Admin", None, Some(&u)).unwrap(), "Ann Admin");
    assert_eq!(m.user("Stranger", None, Some(&u)).unwrap(), "Sync Bot");
    assert_eq!(m.user("Stranger", None, None).unwrap(), "Stranger", "a tracker that takes any name");
    assert_eq!(m.user("", None, Some(&u)).unwrap(), "");
    let strict = Mapping::parse("[users]\nby_email = false\n").unwrap();
    let why = strict.user("Ann at home", Some("ann@customer.example"), Some(&u)).unwrap_err().to_string();
    assert!(why.contains("user 'Ann at home <ann@customer.example>' is not known here"), "{why}");
    let Err(crate::tracker::TrackerError::Refused(r)) = strict.user("Stranger", None, Some(&u)) else { panic!() };
    let h = hint(&r, "acme", "SAM2-1", Some(&strict)).unwrap();
    assert!(h.contains("under [users.table] add \"Stranger\" = \"Ann Admin\""), "{h}");
    assert!(h.contains("postern sync edit acme --mapping FILE") && h.contains("errors retry acme SAM2-1"), "{h}");
    // A name the file maps to already is not suggested again.
    let taken_first = [u[2].clone(), u[3].clone(), u[1].clone()];
    let Err(crate::tracker::TrackerError::Refused(r)) = strict.user("Stranger", None, Some(&taken_first)) else {
        panic!()
    };
    let h = hint(&r, "acme", "SAM2-1", Some(&m)).unwrap();
    assert!(h.contains("\"Stranger\" = \"Sync Bot\""), "Vera Redmine is taken: {h}");
}

#[test]
fn mistakes_are_refused_with_line_and_column() {
    let cases = [
        ("[status]\nDone = \"Closed\"\n[colour]\nRed = \"Blue\"\n", "line 3", "colour"),
        ("[status]\nDone = \"Closed\"\nDone = \"Resolved\"\n", "line 3", "duplicate key"),
        ("[users]\nby_email = \"yes\"\n", "line 2", "boolean"),
        ("[status]\nDone = 3\n", "line 2", "string"),
        ("[status]\nA = \"X\"\nB = \"X\"\n", "line 3, column 5", "[send.status]"),
        ("[send.status]\nX = \"A\"\n", "line 2, column 5", "does not map"),
        ("[priority]\nHigh = \"\"\n", "line 2", "must not be empty"),
    ];
    for (text, place, what) in cases {
        let e = format!("{:#}", Mapping::parse(text).unwrap_err());
        assert!(e.contains(place) && e.contains(what), "{text:?} gave: {e}");
    }
}

#[test]
fn names_the_tracker_lacks_are_refused_against_its_vocabulary() {
    let m = Mapping::parse(GOOD).unwrap();
    let v = Vocabulary { statuses: Some(vec!["Open".into(), "In Progress".into()]), ..Default::default() };
    let e = m.check_against(&v).unwrap_err().to_string();
    assert!(e.contains("line 5") && e.contains("\"Closed\"") && e.contains("it has: Open, In Progress"), "{e}");
    let v = Vocabulary { users: Some(users()[..3].to_vec()), ..Default::default() };
    let e = m.check_against(&v).unwrap_err().to_string();
    assert!(e.contains("line 18") && e.contains("\"Robert B\" is not a user"), "{e}");
    assert!(m.check_against(&Vocabulary::default()).is_ok());
    assert_eq!(m.summary(), "3 statuses, 1 priority, 1 type, 1 custom field, 2 users, fallback user Sync Bot");
}
