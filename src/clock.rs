//! Time as postern stores and compares it: milliseconds since the epoch.
//! (The engine's rules take an injectable clock, `engine::rules::Clock`,
//! whose real one reads this.)

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
