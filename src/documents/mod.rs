//! Documents: evidence on cases and party submissions. The type is checked by content
//! (magic bytes; plain text must be UTF-8 without control characters), never by name; at
//! most 20 MiB; the sha256 is stored; content lives in PostgreSQL under the document's id
//! (the file name is kept only for display). A classified-reference document stores a
//! pointer to where the classified material is held, never content. Downloads are
//! attachments, allowed to those who may see the case, and audited.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;

pub use db::of_case;
pub use model::{Document, Marking};
