//! Who acts and what they may do: the [`Actor`] every use case takes and the access
//! policy, the one place roles are compared. Below every domain (it uses only the audit
//! log, to record a refusal, the ids and the domain error), so that the accounts, sign-in
//! and every domain ask the same policy without importing one another. The extractors that
//! build an actor from a request are the web layer's (`web::auth`).

pub mod actor;
pub mod policy;

pub use actor::{Actor, REAUTH_VALID, RequestMeta};
pub use policy::{Action, Role};
