//! One search across both dockets: the cases (full text, under need-to-know), the parties,
//! the declarations, the specific authorization applications, the advisory opinion requests
//! and the enforcement matters
//! the reader may see, each kind capped with a link to its own list for the rest. It
//! gathers across domains, so it sits above them, as the dossier and the home pages do.

pub mod api;
pub mod web;

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::access::{Action, Actor};
use crate::error::DomainError;

/// How many hits of each kind a search shows.
pub const PER_KIND: i64 = 10;

/// The longest query taken.
pub const MAX_QUERY: usize = 200;

/// One thing found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SearchHit)]
pub struct Hit {
    /// Its number or name, as its page heads it.
    pub title: String,
    /// What it is, in a line.
    pub detail: String,
    /// Its page.
    pub href: String,
}

/// The hits of one kind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SearchSection)]
pub struct Section {
    /// `cases`, `parties`, `declarations`, `applications` or `matters`.
    pub kind: &'static str,
    /// As the page heads it.
    pub heading: &'static str,
    pub hits: Vec<Hit>,
    /// Whether there may be more than shown.
    pub more: bool,
    /// The kind's own list, filtered by the query (where it takes one).
    pub list: Option<String>,
}

fn section(kind: &'static str, heading: &'static str, hits: Vec<Hit>, list: Option<String>) -> Section {
    let more = hits.len() as i64 >= PER_KIND;
    Section { kind, heading, hits, more, list }
}

/// Searches both dockets for `q` as `user` may see them: one section per kind the role
/// reads. An empty query finds nothing; one longer than [`MAX_QUERY`] is refused.
pub async fn search(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    q: &str,
) -> Result<Vec<Section>, DomainError> {
    if !(user.may(Action::ViewCases) || user.may(Action::ViewFilings)) {
        return Err(DomainError::Forbidden);
    }
    let q = q.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(DomainError::invalid("q", format!("at most {MAX_QUERY} characters")));
    }
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let mut out = Vec::new();
    if user.may(Action::ViewCases) {
        let filter = crate::cases::db::CaseFilter { q: Some(q.to_string()), limit: PER_KIND, ..Default::default() };
        let page = crate::cases::service::list(&mut *conn, user, now, &filter).await?;
        let hits = page
            .rows
            .iter()
            .map(|c| Hit {
                title: c.docket_number.clone(),
                detail: format!("{} ({})", c.title, c.stage.label()),
                href: format!("/cases/{}", c.id),
            })
            .collect();
        out.push(section("cases", "Cases", hits, Some(format!("/cases?q={encoded}"))));
    }
    let parties = crate::parties::list(&mut *conn, Some(q), PER_KIND).await?;
    let hits = parties
        .into_iter()
        .map(|p| Hit {
            title: p.legal_name.clone(),
            detail: format!("{} ({})", p.kind.label(), p.country),
            href: format!("/parties/{}", p.id),
        })
        .collect();
    out.push(section("parties", "Parties", hits, Some(format!("/parties?q={encoded}"))));
    if user.may(Action::ViewFilings) {
        let filter = crate::declarations::db::Filter { q: Some(q.to_string()), limit: PER_KIND, ..Default::default() };
        let page = crate::declarations::service::page(&mut *conn, user, &filter).await?;
        let hits = page
            .rows
            .iter()
            .map(|d| Hit {
                title: d.number.clone(),
                detail: format!("{}: {} ({})", d.filer_name, d.kind.label(), d.status.label()),
                href: format!("/declarations/{}", d.id),
            })
            .collect();
        out.push(section(
            "declarations",
            "Declarations of Conformity",
            hits,
            Some(format!("/declarations?q={encoded}")),
        ));
        let apps = crate::authorizations::service::search(&mut *conn, user, q, PER_KIND).await?;
        let hits = apps
            .into_iter()
            .map(|a| Hit {
                title: a.number.clone(),
                detail: format!("{}: {} ({})", a.applicant_name, a.summary, a.status.label()),
                href: format!("/authorizations/{}", a.id),
            })
            .collect();
        out.push(section("applications", "Specific authorization applications", hits, None));
        let requests = crate::opinions::service::search(&mut *conn, user, q, PER_KIND).await?;
        let hits = requests
            .into_iter()
            .map(|r| Hit {
                title: r.number.clone(),
                detail: format!("{}: {} ({})", r.requester_name, r.question, r.status.label()),
                href: format!("/opinions/{}", r.id),
            })
            .collect();
        out.push(section("opinions", "Advisory opinion requests", hits, None));
    }
    if user.may(Action::ViewEnforcement) {
        let matters = crate::enforcement::service::search(&mut *conn, user, q, PER_KIND).await?;
        let hits = matters
            .into_iter()
            .map(|m| Hit {
                title: m.number.clone(),
                detail: format!("{}: {} ({})", m.party_name, m.provision.label(), m.stage.label()),
                href: format!("/enforcement/{}", m.id),
            })
            .collect();
        out.push(section("matters", "Enforcement matters", hits, None));
    }
    Ok(out)
}
