//! The totals of searched case lists, kept while nothing in the office changes.
//!
//! A searched list's total counts its matches up to [`crate::db::Total::CAP`] + 1. For a
//! common word that reads the word's whole entry in the text index and thousands of table
//! pages (83,000 matches of "genomic" at a million cases: 36 ms warm, 90–150 ms cold), and
//! it did so for every page of the list, the next page, the previous page and every return
//! to the first. A total only changes when something is written, and everything written is
//! written with its audit event, in the same transaction, under the lock of the log's head
//! (`audit::record`), which keeps the position of the newest event that may change a case
//! list (`written_seq`, kept by a trigger of migration 0039: not sign-ins, refusals or
//! openings of cases). So a total counted when that position was `seq` still holds while
//! it is `seq`, and it is one row to read.
//!
//! Kept per what is searched and filtered, who can see what (everyone who sees every case
//! shares a total; an analyst's includes their own restricted cases), and the office's
//! date (the due filters). At most [`MAX_KEPT`]; all are dropped when the head moves on.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::PgConnection;
use time::Date;

use super::db::{self, AssigneeFilter, CaseFilter};
use crate::access::Role;
use crate::access::policy::{CaseScope, case_scope};
use crate::db::Total;
use crate::ids::UserId;

/// How many searched totals are kept at most.
pub const MAX_KEPT: usize = 2_000;

/// Searched lists' totals, with the log's head they were counted at.
#[derive(Debug, Default)]
pub struct SearchTotals {
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    /// The audit log's head the totals were counted at.
    head: i64,
    totals: HashMap<String, Total>,
}

impl SearchTotals {
    /// How many visible cases match `f` ([`db::count`]); a search's total is counted once
    /// while nothing is written.
    pub async fn count(
        &self,
        conn: &mut PgConnection,
        f: &CaseFilter,
        user: UserId,
        role: Role,
        today: Date,
    ) -> Result<Total, sqlx::Error> {
        let Some(q) = f.q.as_deref() else { return db::count(conn, f, user, role, today).await };
        let head = crate::audit::written_seq(&mut *conn).await?;
        let key = key_of(q, f, user, role, today);
        if let Some(total) = self.kept_at(head, &key) {
            return Ok(total);
        }
        let total = db::count(conn, f, user, role, today).await?;
        self.keep(head, key, total);
        Ok(total)
    }

    /// The total kept for `key`, if it was counted at `head`.
    fn kept_at(&self, head: i64, key: &str) -> Option<Total> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if head < kept.head {
            // The log went back (a restore): nothing kept holds.
            kept.totals.clear();
            kept.head = head;
        }
        if kept.head == head { kept.totals.get(key).copied() } else { None }
    }

    /// Keeps `total`, counted at `head`, unless the log has moved past it; a later head
    /// drops every total kept before.
    fn keep(&self, head: i64, key: String, total: Total) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if head < kept.head {
            return;
        }
        if head > kept.head || kept.totals.len() >= MAX_KEPT {
            kept.totals.clear();
            kept.head = head;
        }
        kept.totals.insert(key, total);
    }
}

/// What a total depends on: the text, every filter, the cases the user can see, the date.
fn key_of(q: &str, f: &CaseFilter, user: UserId, role: Role, today: Date) -> String {
    let who = match case_scope(role) {
        CaseScope::All => "all".to_string(),
        CaseScope::UnrestrictedOrAssigned => format!("unrestricted+{}", user.0),
        CaseScope::Nothing => "nothing".to_string(),
    };
    let assignee = match f.assignee {
        Some(AssigneeFilter::User(u)) => u.0.to_string(),
        Some(AssigneeFilter::Unassigned) => "unassigned".to_string(),
        None => String::new(),
    };
    serde_json::json!([
        q,
        f.stage.map(|s| s.as_str()),
        f.except_stage.map(|s| s.as_str()),
        f.category,
        f.adversary,
        assignee,
        f.overdue,
        f.due_within,
        f.open,
        who,
        today.to_string()
    ])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str) -> CaseFilter {
        CaseFilter { q: Some(q.into()), ..CaseFilter::default() }
    }

    #[test]
    fn a_total_holds_while_the_log_stays_at_its_head() {
        let t = SearchTotals::default();
        t.keep(7, "a".into(), Total::Exact(3));
        assert_eq!(t.kept_at(7, "a"), Some(Total::Exact(3)));
        assert_eq!(t.kept_at(8, "a"), None, "something was written since");
        // A count that began before the head moved is not kept over a later one.
        t.keep(9, "b".into(), Total::Exact(1));
        t.keep(8, "a".into(), Total::Exact(4));
        assert_eq!(t.kept_at(9, "a"), None);
        assert_eq!(t.kept_at(9, "b"), Some(Total::Exact(1)));
        // A log that went back (a restore) holds none of them, even once it is back at 9.
        assert_eq!(t.kept_at(3, "b"), None);
        assert_eq!(t.kept_at(9, "b"), None);
    }

    #[test]
    fn a_total_is_kept_per_search_filters_sight_and_day() {
        let (u1, u2) = (UserId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)));
        let day = time::macros::date!(2026 - 12 - 06);
        let k = |f: &CaseFilter, u, r| key_of(f.q.as_deref().unwrap(), f, u, r, day);
        let f = search("genomic");
        // Everyone who sees every case shares it; analysts see their own restricted cases.
        assert_eq!(k(&f, u1, Role::Supervisor), k(&f, u2, Role::Supervisor));
        assert_ne!(k(&f, u1, Role::Analyst), k(&f, u2, Role::Analyst));
        assert_ne!(k(&f, u1, Role::Analyst), k(&f, u1, Role::Supervisor));
        assert_ne!(k(&f, u1, Role::Supervisor), k(&search("genomics"), u1, Role::Supervisor));
        let filtered = CaseFilter { overdue: true, ..search("genomic") };
        assert_ne!(k(&f, u1, Role::Supervisor), k(&filtered, u1, Role::Supervisor));
        assert_ne!(
            k(&f, u1, Role::Supervisor),
            key_of("genomic", &f, u1, Role::Supervisor, time::macros::date!(2026 - 12 - 07))
        );
        // The order and the page are not part of it.
        let later = CaseFilter { limit: 10, after: Some(("x".into(), uuid::Uuid::nil())), ..search("genomic") };
        assert_eq!(k(&f, u1, Role::Supervisor), k(&later, u1, Role::Supervisor));
    }
}
