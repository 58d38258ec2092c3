//! Who and what the events of the log are about, as their reader may know it: the actor's
//! name, and the object's docket number or name, with need-to-know applied (a case the
//! reader may not see is named only when it is not restricted, and a restricted one not at
//! all; a reader who sees no case content learns no party's name).

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::access::Role;
use crate::audit::StoredEvent;
use crate::ids::{CaseId, PartyId, UserId};

/// An event's object as its reader may know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A case the reader may see: its docket number, and the case is a link away.
    Case { id: CaseId, docket: String },
    /// A case the reader may not open that is not restricted: its docket number only.
    CaseNamedOnly { docket: String },
    /// A restricted case the reader may not see: neither named nor linked.
    RestrictedCase,
    /// A party, by its legal name (to readers who see case content).
    Party { id: PartyId, name: String },
    /// An account, by the person's name.
    User { id: UserId, name: String },
    /// Something named by its kind only (a session, a list version, a party to a reader
    /// who sees no case content, an object that no longer exists).
    Kind(String),
}

/// The names an event list needs, read once for the page.
#[derive(Debug, Default)]
pub struct Names {
    people: HashMap<UserId, String>,
    cases: HashMap<String, Object>,
    parties: HashMap<String, Object>,
}

impl Names {
    /// The actor's name, if it is an account that exists.
    pub fn actor(&self, e: &StoredEvent) -> Option<&str> {
        e.actor_id.and_then(|a| self.people.get(&a)).map(String::as_str)
    }

    /// The event's object, as its reader may know it (`None` when it has none).
    pub fn object(&self, e: &StoredEvent) -> Option<Object> {
        let (kind, id) = (e.object_type.as_deref()?, e.object_id.as_deref()?);
        let kind_only = || Object::Kind(kind.replace('_', " "));
        Some(match kind {
            "case" => self.cases.get(id).cloned().unwrap_or_else(kind_only),
            "party" => self.parties.get(id).cloned().unwrap_or_else(kind_only),
            "user" => id
                .parse::<UserId>()
                .ok()
                .and_then(|u| self.people.get(&u).map(|n| Object::User { id: u, name: n.clone() }))
                .unwrap_or_else(kind_only),
            _ => kind_only(),
        })
    }
}

/// Reads the names of the actors and objects of `events` for a reader (`reader`, `role`).
pub async fn of(
    conn: &mut PgConnection,
    reader: UserId,
    role: Role,
    events: &[StoredEvent],
) -> Result<Names, sqlx::Error> {
    let ids_of = |kind: &str| -> Vec<uuid::Uuid> {
        let mut ids: Vec<uuid::Uuid> = events
            .iter()
            .filter(|e| e.object_type.as_deref() == Some(kind))
            .filter_map(|e| e.object_id.as_deref()?.parse().ok())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut people: Vec<UserId> = events.iter().filter_map(|e| e.actor_id).collect();
    people.extend(ids_of("user").into_iter().map(UserId));
    people.sort_by_key(|u| u.0);
    people.dedup();
    let mut names = Names {
        people: crate::accounts::db::names(&mut *conn, &people).await?.into_iter().collect(),
        ..Names::default()
    };
    let cases = ids_of("case");
    if !cases.is_empty() {
        for c in crate::cases::db::rows_of(&mut *conn, &cases).await? {
            let object = if c.visible_to(reader, role) {
                Object::Case { id: c.id, docket: c.docket_number.clone() }
            } else if c.restricted {
                Object::RestrictedCase
            } else {
                Object::CaseNamedOnly { docket: c.docket_number.clone() }
            };
            names.cases.insert(c.id.to_string(), object);
        }
    }
    let parties: Vec<PartyId> = ids_of("party").into_iter().map(PartyId).collect();
    if !parties.is_empty() && crate::access::policy::sees_case_content(role) {
        for (id, name) in crate::parties::screening_service::legal_names(&mut *conn, &parties).await? {
            names.parties.insert(id.to_string(), Object::Party { id, name });
        }
    }
    Ok(names)
}
