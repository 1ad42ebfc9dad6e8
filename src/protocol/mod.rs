//! The wire format (pure, no I/O): the envelope every message carries, the
//! change kinds, file names, and the receive-side sequencing rules.

pub mod change;
pub mod entity;
pub mod envelope;
pub mod names;
pub mod scope;
pub mod sequence;
pub mod verify;

pub use change::{
    AttachmentSnapshot, Change, CommentSnapshot, FieldChanges, IssueFields, WireChange, WorklogSnapshot, FIELD_NAMES,
};
pub use envelope::{Body, Envelope, FORMAT_VERSION};
pub use sequence::{classify, Arrival};
