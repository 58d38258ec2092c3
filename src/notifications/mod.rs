//! In-application notifications (assigned to you, a returned draft, awaiting your
//! signature, a clock due within 7 days, a breach), written in the transaction of the
//! change that causes them. When an SMTP relay is configured each one also queues a mail
//! in the outbox, which [`outbox`] workers send.

pub mod db;
pub mod model;
pub mod outbox;
pub mod service;
pub mod web;

pub use db::{is_own, link_of, mark_read, of_user, resolve};
pub use model::{Kind, Note, Notification};
pub use service::{notify, notify_supervisors, remind_due_clocks, withdraw_unseen};
