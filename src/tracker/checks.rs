//! What any tracker refuses before a write is tried: a worklog's time and
//! dates out of range. Every backend checks with these, so a change is
//! refused the same way whichever tracker it goes to.

use super::{NewWorklog, Refusal, TResult};

/// Checks what any tracker would refuse in a worklog.
pub fn check_worklog(w: &NewWorklog<'_>) -> TResult<()> {
    if w.minutes == 0 || w.minutes > 24 * 60 * 31 {
        return Err(Refusal::Invalid(format!(
            "a worklog of {} minutes is out of range (1 minute to 31 days)",
            w.minutes
        ))
        .into());
    }
    check_date("spent on", w.spent_on)
}

/// A `YYYY-MM-DD` date, or a refusal naming `what`.
pub fn check_date(what: &str, date: &str) -> TResult<()> {
    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() || date.len() != 10 {
        return Err(Refusal::Invalid(format!("{what} date '{date}' is not a date (YYYY-MM-DD)")).into());
    }
    Ok(())
}
