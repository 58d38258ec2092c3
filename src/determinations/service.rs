//! Determination use cases: draft, revise, submit, return and sign. Each is one
//! transaction with its audit event (object: the case, so the case's timeline shows it).

use crate::ids::{AssessmentId, CaseId, DeterminationId, DocumentId, MeasureId, SubmissionId, UserId};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Content, Determination, Kind, Outcome, Status, validate};
use crate::access::Actor;
use crate::audit::{self, EventType, NewEvent};
use crate::cases::model::CaseRow;
use crate::cases::service::visible;
use crate::cases::workflow::{Change, Decision, Facts, Input, Stage};
use crate::error::{DomainError, FieldError};
use crate::notifications::{self, Note};

/// `query_as!` over the columns of [`Determination`] with its people's names: the rest of
/// the statement after the joins, then its parameters.
macro_rules! select_determinations {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Determination,
            r#"SELECT d.id AS "id: DeterminationId", d.case_id AS "case_id: CaseId", d.kind AS "kind: Kind",
                d.supersedes AS "supersedes: DeterminationId", d.outcome AS "outcome: Outcome", d.status AS "status: Status", d.revision, d.content,
                d.assessment_id AS "assessment_id: AssessmentId", d.cited_documents AS "cited_documents: Vec<DocumentId>",
                d.unclassified_confirmed, d.drafted_by AS "drafted_by: UserId", du.name AS drafted_by_name, d.created_at,
                d.updated_at, d.submitted_at, d.signed_by AS "signed_by: UserId",
                coalesce(su.name, d.outside_signer) AS "signed_by_name?", d.signed_at, d.reauth_at, d.content_sha256,
                d.signed_on, d.signer_title, d.signer_authority, d.outside_signer,
                d.signed_copy_id AS "signed_copy_id: DocumentId", d.signed_copy_sha256,
                d.recorded_by AS "recorded_by: UserId", ru.name AS "recorded_by_name?", d.recorded_at,
                d.confirmed_by AS "confirmed_by: UserId", cu.name AS "confirmed_by_name?"
              FROM determinations d JOIN users du ON du.id = d.drafted_by LEFT JOIN users su ON su.id = d.signed_by
              LEFT JOIN users ru ON ru.id = d.recorded_by LEFT JOIN users cu ON cu.id = d.confirmed_by "# + $rest
            $(, $arg)*
        )
    };
}

/// What a draft says (its kind is fixed when it is started).
pub struct Draft {
    /// Outcome (see [`Kind::outcomes`]).
    pub outcome: String,
    pub content: Content,
    /// Documents cited.
    pub cited_documents: Vec<DocumentId>,
    /// The drafter confirms it is unclassified.
    pub unclassified_confirmed: bool,
}

/// Loads a determination whose case `user` may see (404 otherwise).
pub async fn get(
    conn: &mut PgConnection,
    user: &Actor,
    id: DeterminationId,
    lock: bool,
) -> Result<(Determination, CaseRow), DomainError> {
    let d = if lock {
        select_determinations!("WHERE d.id = $1 FOR UPDATE OF d", id.0).fetch_optional(&mut *conn).await?
    } else {
        select_determinations!("WHERE d.id = $1", id.0).fetch_optional(&mut *conn).await?
    }
    .ok_or(DomainError::NotFound)?;
    let c = visible(conn, user, d.case_id, false).await?;
    Ok((d, c))
}

/// The determinations of a case, oldest first.
pub async fn of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Determination>, DomainError> {
    Ok(select_determinations!("WHERE d.case_id = $1 ORDER BY d.created_at, d.id", case_id.0).fetch_all(conn).await?)
}

/// A determination listed with its case's docket number and title.
pub struct Listed {
    /// The determination.
    pub d: Determination,
    /// Its case's docket number.
    pub docket_number: String,
    /// Its case's title.
    pub title: String,
}

/// Which determinations to list.
pub enum Listing {
    /// Submitted, awaiting a signature (or a recorded outside signature awaiting its
    /// confirmation), oldest first.
    AwaitingSignature,
    /// As `AwaitingSignature`, without what four-eyes keeps from the user's signature:
    /// drafts they wrote, outside signatures they recorded, drafts on cases they filed.
    AwaitingMySignature,
    /// The user's own unsigned drafts, latest first.
    UnsignedByMe,
    /// Drafts the user returned to their drafters that have not come back, latest first.
    ReturnedBy,
}

/// Determinations on cases `user` may see (need-to-know applied in the query, as
/// [`CaseRow::visible_to`] does).
pub async fn list(conn: &mut PgConnection, user: &Actor, which: Listing) -> Result<Vec<Listed>, DomainError> {
    // Need-to-know in the query, as `CaseRow::visible_to` decides it one case at a time.
    let sees_restricted = user.may(crate::access::Action::SeeRestrictedCases);
    let ds = match which {
        Listing::AwaitingSignature => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status IN ('submitted', 'recorded') ORDER BY coalesce(d.recorded_at, d.submitted_at), d.id LIMIT 500",
                user.id.0,
                sees_restricted
            )
            .fetch_all(&mut *conn)
            .await?
        }
        Listing::AwaitingMySignature => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status IN ('submitted', 'recorded') AND d.drafted_by <> $1
                 AND d.recorded_by IS DISTINCT FROM $1 AND c.created_by IS DISTINCT FROM $1
                 ORDER BY coalesce(d.recorded_at, d.submitted_at), d.id LIMIT 500",
                user.id.0,
                sees_restricted
            )
            .fetch_all(&mut *conn)
            .await?
        }
        Listing::UnsignedByMe => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.drafted_by = $1 AND d.status <> 'signed' ORDER BY d.updated_at DESC, d.id LIMIT 500",
                user.id.0,
                sees_restricted
            )
            .fetch_all(&mut *conn)
            .await?
        }
        Listing::ReturnedBy => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status = 'returned' AND EXISTS (SELECT 1 FROM determination_returns r
                 WHERE r.determination_id = d.id AND r.returned_by = $1) ORDER BY d.updated_at DESC, d.id LIMIT 500",
                user.id.0,
                sees_restricted
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let ids: Vec<CaseId> = ds.iter().map(|d| d.case_id).collect();
    let cases: std::collections::HashMap<CaseId, (String, String)> =
        sqlx::query!(r#"SELECT id AS "id: CaseId", docket_number, title FROM cases WHERE id = ANY($1)"#, &ids as _)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.id, (r.docket_number, r.title)))
            .collect();
    Ok(ds
        .into_iter()
        .map(|d| {
            let (docket_number, title) = cases.get(&d.case_id).cloned().unwrap_or_default();
            Listed { d, docket_number, title }
        })
        .collect())
}

/// The orders of the list of every determination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeterminationSort {
    /// Last changed, newest first (the default).
    Newest,
    /// Last changed, oldest first.
    Oldest,
    /// By the case's docket number.
    Docket,
}

impl DeterminationSort {
    /// Every order.
    pub const ALL: [DeterminationSort; 3] =
        [DeterminationSort::Newest, DeterminationSort::Oldest, DeterminationSort::Docket];

    /// Parses a name.
    pub fn parse(s: &str) -> Option<DeterminationSort> {
        DeterminationSort::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeterminationSort::Newest => "newest",
            DeterminationSort::Oldest => "oldest",
            DeterminationSort::Docket => "docket",
        }
    }
}

/// What the list of every determination shows.
#[derive(Debug, Clone)]
pub struct DeterminationFilter {
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    pub sort: DeterminationSort,
    /// The cursor's key and id: the page after it, or before it when `backwards`.
    pub after: Option<(String, uuid::Uuid)>,
    pub backwards: bool,
    pub limit: i64,
}

impl DeterminationFilter {
    /// Whether `key` can be a cursor key of the filter's order (values the columns hold,
    /// written as a cursor writes them: the case list's rules).
    pub fn valid_key(&self, key: &str) -> bool {
        use crate::cases::db::Sort;
        match self.sort {
            DeterminationSort::Newest | DeterminationSort::Oldest => Sort::Newest.valid_key(key),
            DeterminationSort::Docket => Sort::Docket.valid_key(key),
        }
    }
}

/// One page of the determinations on cases `user` may see, in the filter's order, and how
/// many match (counted only when there is more than one page, up to
/// [`crate::db::Total::CAP`]).
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &DeterminationFilter,
) -> Result<(crate::db::Page<Listed>, crate::db::Total), DomainError> {
    use sqlx::QueryBuilder;
    let sees_restricted = user.may(crate::access::Action::SeeRestrictedCases);
    let filters = |qb: &mut QueryBuilder<sqlx::Postgres>| {
        qb.push(" FROM determinations d JOIN cases c ON c.id = d.case_id WHERE (")
            .push_bind(sees_restricted)
            .push(" OR NOT c.restricted OR c.assignee = ")
            .push_bind(user.id.0)
            .push(")");
        if let Some(st) = f.status {
            qb.push(" AND d.status = ").push_bind(st.as_str()).push("::text");
        }
        if let Some(k) = f.kind {
            qb.push(" AND d.kind = ").push_bind(k.as_str());
        }
    };
    // The page: ids in order, by keyset on the order's columns (walked backwards for the
    // page before the cursor).
    #[expect(clippy::disallowed_methods, reason = "the filters, order and cursor come from the request")]
    let mut qb = QueryBuilder::new("SELECT d.id, d.updated_at, c.docket_number");
    filters(&mut qb);
    let ascending = f.sort != DeterminationSort::Newest;
    let op = if ascending != f.backwards { ">" } else { "<" };
    let dir = if ascending != f.backwards { "ASC" } else { "DESC" };
    if let Some((key, id)) = &f.after {
        match f.sort {
            DeterminationSort::Newest | DeterminationSort::Oldest => {
                qb.push(format!(" AND (d.updated_at, d.id) {op} (CAST("))
                    .push_bind(key.clone())
                    .push(" AS timestamptz), ")
                    .push_bind(*id)
                    .push(")");
            }
            DeterminationSort::Docket => {
                qb.push(format!(" AND (c.docket_year, c.docket_seq, d.id) {op} (split_part("))
                    .push_bind(key.clone())
                    .push(", '-', 2)::integer, split_part(")
                    .push_bind(key.clone())
                    .push(", '-', 3)::integer, ")
                    .push_bind(*id)
                    .push(")");
            }
        }
    }
    match f.sort {
        DeterminationSort::Newest | DeterminationSort::Oldest => {
            qb.push(format!(" ORDER BY d.updated_at {dir}, d.id {dir}"));
        }
        DeterminationSort::Docket => {
            qb.push(format!(" ORDER BY c.docket_year {dir}, c.docket_seq {dir}, d.id {dir}"));
        }
    }
    qb.push(" LIMIT ").push_bind(f.limit + 1);
    let keys: Vec<(uuid::Uuid, OffsetDateTime, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let sort = f.sort;
    let ids = crate::db::Page::from_read(keys, f.limit, f.after.is_some(), f.backwards, |(id, at, docket)| {
        let key = match sort {
            DeterminationSort::Newest | DeterminationSort::Oldest => {
                at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
            }
            DeterminationSort::Docket => docket.clone(),
        };
        format!("{key}~{id}")
    });
    let wanted: Vec<uuid::Uuid> = ids.rows.iter().map(|r| r.0).collect();
    let ds = select_determinations!("JOIN unnest($1::uuid[]) AS w(id) ON w.id = d.id", &wanted)
        .fetch_all(&mut *conn)
        .await?;
    let mut by_id: std::collections::HashMap<uuid::Uuid, Determination> = ds.into_iter().map(|d| (d.id.0, d)).collect();
    let rows: Vec<Listed> = ids
        .rows
        .iter()
        .filter_map(|(id, _, docket)| {
            by_id.remove(id).map(|d| Listed { d, docket_number: docket.clone(), title: String::new() })
        })
        .collect();
    let total = if ids.next.is_none() && ids.prev.is_none() && f.after.is_none() {
        crate::db::Total::Exact(rows.len() as i64)
    } else {
        #[expect(clippy::disallowed_methods, reason = "the filters come from the request")]
        let mut qb = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
        filters(&mut qb);
        qb.push(" LIMIT ").push_bind(crate::db::Total::CAP + 1).push(") x");
        crate::db::Total::counted(qb.build_query_scalar().fetch_one(&mut *conn).await?)
    };
    Ok((crate::db::Page { rows, next: ids.next, prev: ids.prev }, total))
}

/// Checks what needs the database: cited documents, answered submissions and measures
/// belong to the case; nothing classified-reference is cited; a submitted draft answers
/// every written submission and rests on agreed measures.
async fn check_references(
    conn: &mut PgConnection,
    case_id: CaseId,
    kind: Kind,
    outcome: &str,
    content: &Content,
    cited: &[DocumentId],
    complete: bool,
) -> Result<Vec<FieldError>, DomainError> {
    let mut e = Vec::new();
    let docs = sqlx::query!(
        r#"SELECT id AS "id: DocumentId", marking::text AS "marking!" FROM documents WHERE case_id = $1 AND id = ANY($2)"#,
        case_id.0,
        cited as _
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in cited {
        match docs.iter().find(|d| d.id == *id) {
            None => e.push(FieldError::new("cited_documents", format!("{id} is not a document of this case"))),
            Some(d) if d.marking == "classified_reference" => e.push(FieldError::new(
                "cited_documents",
                "a classified-reference document can never be cited in a determination (it must be unclassified)",
            )),
            _ => {}
        }
    }
    let submissions =
        sqlx::query!(r#"SELECT id AS "id: SubmissionId", kind FROM case_submissions WHERE case_id = $1"#, case_id.0)
            .fetch_all(&mut *conn)
            .await?;
    for a in &content.submission_answers {
        if !submissions.iter().any(|s| s.id == a.submission_id) {
            e.push(FieldError::new(
                "submission_answers",
                format!("{} is not a submission of this case", a.submission_id),
            ));
        }
    }
    if complete && matches!(kind, Kind::Final | Kind::Amendment) {
        let unanswered = submissions
            .iter()
            .filter(|s| s.kind != "meeting_request")
            .filter(|s| !content.submission_answers.iter().any(|a| a.submission_id == s.id))
            .count();
        if unanswered > 0 {
            e.push(FieldError::new(
                "submission_answers",
                format!("answer each party submission ({unanswered} not answered)"),
            ));
        }
    }
    let measures = sqlx::query!(
        r#"SELECT id AS "id: MeasureId", status AS "status: crate::mitigation::MeasureStatus"
         FROM mitigation_measures WHERE case_id = $1 AND id = ANY($2)"#,
        case_id.0,
        &content.measures as _
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in &content.measures {
        match measures.iter().find(|m| m.id == *id) {
            None => e.push(FieldError::new("measures", format!("{id} is not a mitigation measure of this case"))),
            Some(m) if complete && outcome == "permitted_with_mitigation" && !m.status.is_in_force() => {
                e.push(FieldError::new("measures", "a final determination rests only on agreed measures"))
            }
            _ => {}
        }
    }
    Ok(e)
}

async fn current_assessment(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM assessments WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        case_id.0,
    )
    .fetch_optional(conn)
    .await
}

/// Starts a draft on a case.
pub async fn create(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    kind: Kind,
    draft: Draft,
    drafted: &crate::dates::When,
) -> Result<Determination, DomainError> {
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    crate::proceedings::service::may_work(user, &c)?;
    let on = drafted.date("drafted_on", now, &[(&format!("the case reached {}", c.stage.label()), c.stage_since)])?;
    let mut errors = validate(kind, &draft.outcome, &draft.content, draft.unclassified_confirmed, false);
    errors.extend(
        check_references(&mut tx, case_id, kind, &draft.outcome, &draft.content, &draft.cited_documents, false).await?,
    );
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let signed_final: Option<Uuid> = sqlx::query_scalar!(
        "SELECT id FROM determinations WHERE case_id = $1 AND status = 'signed' AND kind IN ('final', 'amendment') \
         ORDER BY signed_at DESC LIMIT 1",
        case_id.0,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let supersedes = match kind {
        Kind::Initial if c.stage != Stage::InitialDetermination || c.initial_signed_by.is_some() => {
            return Err(DomainError::Conflict(format!(
                "an initial determination is drafted while the case is at Initial determination and none is signed (the case is at {})",
                c.stage.label()
            )));
        }
        Kind::Final
            if !matches!(c.stage, Stage::ResponsePeriod | Stage::SecondInteragency | Stage::FinalDetermination)
                || c.final_decision.is_some() =>
        {
            return Err(DomainError::Conflict(format!(
                "a final determination is drafted after service of the initial determination and before one is signed (the case is at {})",
                c.stage.label()
            )));
        }
        Kind::Amendment | Kind::Revocation => {
            if !c.stage.is_decided() {
                return Err(DomainError::Conflict(
                    "only an issued final determination can be amended or revoked".into(),
                ));
            }
            Some(
                signed_final
                    .ok_or_else(|| DomainError::Conflict("there is no signed final determination to amend".into()))?,
            )
        }
        _ => None,
    };
    let open: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM determinations WHERE case_id = $1 AND status <> 'signed' AND (kind = $2 OR (kind IN ('amendment', 'revocation') AND $2 IN ('amendment', 'revocation')))) AS "v!""#,
        case_id.0,
        kind.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if open {
        return Err(DomainError::Conflict(format!(
            "this case already has an unsigned {} draft: revise that one",
            kind.label().to_lowercase()
        )));
    }
    let id = DeterminationId::new();
    let content = serde_json::to_value(&draft.content).expect("content serialises");
    let assessment = current_assessment(&mut tx, case_id).await?;
    sqlx::query!(
        "INSERT INTO determinations (id, case_id, kind, supersedes, outcome, content, assessment_id, cited_documents, \
         unclassified_confirmed, drafted_by, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)",
        id.0,
        case_id.0,
        kind.as_str(),
        supersedes,
        &draft.outcome,
        &content,
        assessment,
        &draft.cited_documents as _,
        draft.unclassified_confirmed,
        user.id.0,
        now
    )
    .execute(&mut *tx)
    .await?;
    save_revision(&mut tx, id, 1, &draft.outcome, &content, user.id, now).await?;
    let event = NewEvent::new(EventType::DeterminationDrafted).object("case", case_id).changes(json!({
        "determination": id, "kind": kind.as_str(), "outcome": {"after": draft.outcome}, "revision": 1,
        "supersedes": supersedes, "on": on, "late_reason": drafted.late_reason(),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

async fn save_revision(
    conn: &mut PgConnection,
    id: DeterminationId,
    revision: i32,
    outcome: &str,
    content: &serde_json::Value,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO determination_revisions (determination_id, revision, outcome, content, saved_by, saved_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
        id.0,
        revision,
        outcome,
        content,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn editable(d: &Determination, user: &Actor) -> Result<(), DomainError> {
    if d.status == Status::Signed {
        return Err(DomainError::Conflict(
            "this determination is signed and never changes; draft an amendment or a revocation instead".into(),
        ));
    }
    if d.drafted_by != user.id {
        return Err(DomainError::Conflict("only the drafter revises a draft".into()));
    }
    if !d.status.is_editable() {
        return Err(DomainError::Conflict(
            "the draft is awaiting signature; a supervisor must return it before it changes".into(),
        ));
    }
    Ok(())
}

/// Saves a new revision of a draft (drafter only, until submission). `revision` is the one
/// the drafter started from: a stale one is a conflict.
pub async fn revise(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    revision: i32,
    draft: Draft,
) -> Result<Determination, DomainError> {
    let mut tx = conn.begin().await?;
    let (d, c) = get(&mut tx, user, id, true).await?;
    if !user.may(crate::access::Action::WorkCases) {
        return Err(DomainError::Forbidden);
    }
    editable(&d, user)?;
    if revision != d.revision {
        return Err(DomainError::Conflict(format!(
            "the draft was saved since you opened it (revision {} now, yours {revision}); nothing was saved",
            d.revision
        )));
    }
    let kind = d.kind();
    let mut errors = validate(kind, &draft.outcome, &draft.content, draft.unclassified_confirmed, false);
    errors.extend(
        check_references(&mut tx, c.id, kind, &draft.outcome, &draft.content, &draft.cited_documents, false).await?,
    );
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let content = serde_json::to_value(&draft.content).expect("content serialises");
    let next = d.revision + 1;
    let assessment = current_assessment(&mut tx, c.id).await?;
    sqlx::query!(
        "UPDATE determinations SET outcome = $2, content = $3, cited_documents = $4, unclassified_confirmed = $5, \
         assessment_id = $6, revision = $7, updated_at = $8 WHERE id = $1 AND revision = $9",
        id.0,
        &draft.outcome,
        &content,
        &draft.cited_documents as _,
        draft.unclassified_confirmed,
        assessment,
        next,
        now,
        d.revision
    )
    .execute(&mut *tx)
    .await?;
    save_revision(&mut tx, id, next, &draft.outcome, &content, user.id, now).await?;
    let mut changed: Vec<&str> = Vec::new();
    let old = d.typed();
    for (name, a, b) in [
        ("title", &old.title, &draft.content.title),
        ("party", &old.party, &draft.content.party),
        ("covered_finding", &old.covered_finding, &draft.content.covered_finding),
        ("nexus_finding", &old.nexus_finding, &draft.content.nexus_finding),
        ("risk_analysis", &old.risk_analysis, &draft.content.risk_analysis),
        ("background", &old.background, &draft.content.background),
        ("cessation", &old.cessation, &draft.content.cessation),
        ("penalties", &old.penalties, &draft.content.penalties),
    ] {
        if a != b {
            changed.push(name);
        }
    }
    let event = NewEvent::new(EventType::DeterminationRevised).object("case", c.id).changes(json!({
        "determination": id, "revision": {"before": d.revision, "after": next},
        "outcome": {"before": d.outcome, "after": draft.outcome}, "sections_changed": changed,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

/// Submits a draft for signature: it must be complete. Supervisors other than the drafter
/// are notified.
pub async fn submit(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    mail: bool,
) -> Result<Determination, DomainError> {
    let mut tx = conn.begin().await?;
    let (d, c) = get(&mut tx, user, id, true).await?;
    editable(&d, user)?;
    let content = d.typed();
    let kind = d.kind();
    let mut errors = validate(kind, d.outcome.as_str(), &content, d.unclassified_confirmed, true);
    errors.extend(check_references(&mut tx, c.id, kind, d.outcome.as_str(), &content, &d.cited_documents, true).await?);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    if matches!(kind, Kind::Initial | Kind::Final) && d.assessment_id.is_none() {
        return Err(DomainError::Conflict("the risk analysis must rest on a recorded risk assessment".into()));
    }
    sqlx::query!(
        "UPDATE determinations SET status = $3, submitted_at = $2 WHERE id = $1",
        id.0,
        now,
        Status::Submitted as _
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::DeterminationSubmitted).object("case", c.id).changes(
        json!({"determination": id, "revision": d.revision, "status": {"before": d.status, "after": Status::Submitted}}),
    );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message = format!("{}: {} by {} awaits your signature", c.docket_number, kind.label(), user.name);
    let link = format!("/determinations/{id}");
    let note = Note::on_case(notifications::Kind::AwaitingSignature, c.id, &message, &link);
    notifications::notify_supervisors(&mut tx, now, mail, Some(d.drafted_by), &note).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

fn not_own(d: &Determination, user: &Actor, what: &str) -> Result<(), DomainError> {
    use crate::access::policy::{FourEyes, four_eyes};
    match four_eyes(user.role, user.id, d.drafted_by, crate::access::Action::SignDeterminations) {
        Ok(()) => Ok(()),
        Err(FourEyes::NotASigner) => Err(DomainError::Forbidden),
        Err(FourEyes::OwnWork) => {
            Err(DomainError::ForbiddenBecause(format!("a supervisor never {what} a determination they drafted")))
        }
    }
}

/// Four-eyes on the case: a supervisor never signs (or confirms a signature of) a
/// determination on a case they filed. The database's guard holds the same.
pub fn filed_it(c: &CaseRow, user: &Actor) -> Option<String> {
    (c.created_by == Some(user.id))
        .then(|| "you filed this case, and a supervisor never signs a determination on a case they filed".to_string())
}

fn not_filer(c: &CaseRow, user: &Actor) -> Result<(), DomainError> {
    match filed_it(c, user) {
        Some(why) => Err(DomainError::ForbiddenBecause(why)),
        None => Ok(()),
    }
}

/// Returns a submitted draft to its drafter with a required comment.
pub async fn return_draft(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    comment: &str,
    mail: bool,
) -> Result<Determination, DomainError> {
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > crate::text::TEXT {
        return Err(DomainError::invalid("comment", "say what must change (1 to 20,000 characters)"));
    }
    let mut tx = conn.begin().await?;
    let (d, c) = get(&mut tx, user, id, true).await?;
    not_own(&d, user, "returns")?;
    if !d.status.may_move_to(Status::Returned) {
        return Err(DomainError::Conflict(format!(
            "only a submitted draft (or a recorded outside signature) can be returned (this one is {})",
            d.status
        )));
    }
    // A recorded outside signature that is returned is no longer part of the draft.
    sqlx::query!(
        "UPDATE determinations SET status = $2, outside_signer = NULL, signer_title = NULL, signer_authority = NULL, \
         signed_on = NULL, signed_copy_id = NULL, signed_copy_sha256 = NULL, recorded_by = NULL, recorded_at = NULL \
         WHERE id = $1",
        id.0,
        Status::Returned as _
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO determination_returns (id, determination_id, revision, comment, returned_by, returned_at) VALUES ($1,$2,$3,$4,$5,$6)",
        Uuid::now_v7(),
        id.0,
        d.revision,
        comment,
        user.id.0,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::DeterminationReturned).object("case", c.id).changes(json!({
        "determination": id, "revision": d.revision, "comment": comment, "status": {"before": d.status, "after": "returned"},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message = format!(
        "{}: your {} was returned by {}: {comment}",
        c.docket_number,
        d.kind().label().to_lowercase(),
        user.name
    );
    tell_drafter(&mut tx, now, &d, notifications::Kind::Returned, &message, mail).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

/// Why a determination of `kind` cannot be signed on `on` with its case as it stands
/// (the stage it must be at; for a final determination, the parties' response window),
/// or `None`. The signature queue shows it; signing and confirming refuse with it.
pub fn why_not_signable(kind: Kind, c: &CaseRow, user: &Actor, on: time::Date) -> Option<String> {
    match kind {
        Kind::Initial if c.stage != Stage::InitialDetermination => {
            Some(format!("the case is at {}, not Initial determination", c.stage.label()))
        }
        Kind::Final if c.stage != Stage::FinalDetermination => Some(format!(
            "a final determination is signed once the case is at Final determination (it is at {})",
            c.stage.label()
        )),
        Kind::Amendment | Kind::Revocation if !c.stage.is_decided() => {
            Some("only an issued final determination can be amended or revoked".into())
        }
        // The final determination waits for the parties' 30 days (7.107 / 791.107).
        Kind::Final => {
            let facts = crate::cases::service::facts(c, user, on);
            crate::cases::workflow::response_window_holds(&facts, on)
        }
        _ => None,
    }
}

/// Why `user` cannot sign (or confirm) `d` yet, as signing would say it with the case as it
/// stands on `today` (a recorded outside signature on its own date), or `None` when it can
/// be signed now: the signature queue and the supervisor's home page say it beside each.
pub async fn why_it_waits(
    conn: &mut PgConnection,
    user: &Actor,
    d: &Determination,
    today: time::Date,
) -> Result<Option<String>, DomainError> {
    let c = visible(conn, user, d.case_id, false).await?;
    Ok(filed_it(&c, user).or_else(|| why_not_signable(d.kind(), &c, user, d.signed_on.unwrap_or(today))))
}

/// The title and authority `signer` stated at their last signature, else their role and
/// [`super::DEFAULT_AUTHORITY`]: what a signature states when the signer gives none.
pub async fn usual_statement(conn: &mut PgConnection, signer: UserId) -> Result<(String, String), DomainError> {
    Ok(super::db::last_statement(conn, signer)
        .await?
        .unwrap_or_else(|| ("Supervisor".into(), super::DEFAULT_AUTHORITY.into())))
}

/// The title and authority a signer states, checked; left out, those of their last
/// signature, else their role and [`super::DEFAULT_AUTHORITY`].
async fn signer_statement(
    conn: &mut PgConnection,
    user: &Actor,
    req: &super::SignRequest,
) -> Result<(String, String), DomainError> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let (mut title, mut authority) = (given(&req.signer_title), given(&req.authority));
    if title.is_none() || authority.is_none() {
        let (t, a) = usual_statement(conn, user.id).await?;
        title.get_or_insert(t);
        authority.get_or_insert(a);
    }
    let (title, authority) = (title.expect("set"), authority.expect("set"));
    let mut errors = Vec::new();
    if title.chars().count() > crate::text::NAME {
        errors.push(FieldError::new("signer_title", "must be at most 300 characters"));
    }
    if authority.chars().count() > crate::text::LINE {
        errors.push(FieldError::new("authority", "must be at most 2,000 characters"));
    }
    if errors.is_empty() { Ok((title, authority)) } else { Err(DomainError::Invalid(errors)) }
}

/// Signs a submitted determination: a supervisor who is not the drafter, re-authenticated
/// within the last 5 minutes, who states their title and the delegation they sign under.
/// The content's hash, the signer, the date of the act, the time and the
/// re-authentication time are stored; the case moves on (initial: may be served; final:
/// may be issued; amendment: the decision changes; revocation: the case closes).
pub async fn sign(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    req: super::SignRequest,
    mail: bool,
) -> Result<Determination, DomainError> {
    let mut tx = conn.begin().await?;
    let (d, _) = get(&mut tx, user, id, true).await?;
    not_own(&d, user, "signs")?;
    user.require_recent_reauth(now)?;
    match d.status {
        Status::Signed => return Err(DomainError::Conflict("this determination is already signed".into())),
        Status::Recorded => {
            return Err(DomainError::Conflict(
                "this determination was signed outside the system: a second supervisor confirms the recorded signature"
                    .into(),
            ));
        }
        s if !s.may_move_to(Status::Signed) => {
            return Err(DomainError::Conflict(format!("only a submitted draft can be signed (this one is {s})")));
        }
        _ => {}
    }
    let c = visible(&mut tx, user, d.case_id, true).await?;
    not_filer(&c, user)?;
    let on = crate::dates::today(now);
    if let Some(why) = why_not_signable(d.kind(), &c, user, on) {
        return Err(DomainError::Conflict(why));
    }
    if let Some(seen) = req.content_sha256.as_deref()
        && !seen.trim().eq_ignore_ascii_case(&hex::encode(d.computed_hash()))
    {
        return Err(DomainError::Conflict(
            "the content changed after you reviewed it: read it again before you sign".into(),
        ));
    }
    let (title, authority) = signer_statement(&mut tx, user, &req).await?;
    let hash = d.computed_hash();
    let reauth_at = user.reauth_at.expect("checked above");
    let n = sqlx::query!(
        "UPDATE determinations SET status = $6, signed_by = $2, signed_at = $3, reauth_at = $4, content_sha256 = $5, \
         signed_on = $8, signer_title = $9, signer_authority = $10 WHERE id = $1 AND status = $7",
        id.0,
        user.id.0,
        now,
        reauth_at,
        &hash[..],
        Status::Signed as _,
        Status::Submitted as _,
        on,
        title,
        authority,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(DomainError::Conflict("this determination is already signed".into()));
    }
    let stage_after = take_effect(&mut tx, user, now, &d, &c).await?;
    let mut changes = json!({
        "determination": id, "kind": d.kind, "outcome": d.outcome, "revision": d.revision,
        "content_sha256": hex::encode(hash), "reauth_at": reauth_at, "status": {"before": "submitted", "after": "signed"},
        "signed_on": on, "signer_title": title, "authority": authority,
    });
    if stage_after != c.stage {
        changes["stage"] = json!({"before": c.stage, "after": stage_after});
    }
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::DeterminationSigned).object("case", c.id).changes(changes),
    )
    .await?;
    let message = format!("{}: your {} was signed by {}", c.docket_number, d.kind().label().to_lowercase(), user.name);
    tell_drafter(&mut tx, now, &d, notifications::Kind::Signed, &message, mail).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

/// What a signature does to its case: an initial one lets it be served, a final one sets
/// the decision, an amendment changes it, a revocation closes the case. `user` is the
/// supervisor who signed it (or, outside the system, who confirmed the recording).
/// Returns the stage after.
async fn take_effect(
    tx: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    d: &Determination,
    c: &CaseRow,
) -> Result<Stage, DomainError> {
    let mut change = None;
    match d.kind() {
        Kind::Initial => {
            sqlx::query!(
                "UPDATE cases SET initial_signed_by = $2, initial_signed_at = $3 WHERE id = $1",
                c.id.0,
                user.id.0,
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        Kind::Final | Kind::Amendment => {
            let decision = Decision::parse(d.outcome.as_str()).expect("checked by the database");
            sqlx::query!(
                "UPDATE cases SET final_decision = $2, final_signed_by = $3, final_signed_at = $4 WHERE id = $1",
                c.id.0,
                decision as _,
                user.id.0,
                now
            )
            .execute(&mut *tx)
            .await?;
            if d.kind() == Kind::Amendment {
                change = Some(Change::Amended(decision));
                crate::cases::service::determination_event(
                    &mut *tx,
                    c.id,
                    "amended",
                    Some(decision),
                    &d.typed().title,
                    user.id,
                    now,
                )
                .await?;
            }
        }
        Kind::Revocation => {
            change = Some(Change::Revoked);
            crate::cases::service::determination_event(&mut *tx, c.id, "revoked", None, &d.typed().title, user.id, now)
                .await?;
        }
    }
    Ok(match change {
        Some(change) => {
            crate::cases::service::apply(&mut *tx, user, now, c, change, &Facts::default(), &Input::default()).await?
        }
        None => {
            crate::cases::db::touch(&mut *tx, c.id, now).await?;
            c.stage
        }
    })
}

/// Whether two spellings name the same person (case, spacing and punctuation aside).
fn same_person(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    !norm(a).is_empty() && norm(a) == norm(b)
}

/// Records a determination signed outside the system (on paper, or in the office's
/// earlier system) from its signed copy: the signer's name, title and authority, the date
/// of the signature and the copy, a document of the case whose sha256 is kept. The
/// supervisor recording it is never its signer; it takes effect when a second supervisor
/// confirms it ([`confirm_outside`]).
pub async fn record_outside(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    s: super::OutsideSignature,
    mail: bool,
) -> Result<Determination, DomainError> {
    let mut errors = Vec::new();
    let (name, title, authority) = (s.signer_name.trim(), s.signer_title.trim(), s.authority.trim());
    for (field, v, max) in [
        ("signer_name", name, crate::text::PERSON),
        ("signer_title", title, crate::text::NAME),
        ("authority", authority, crate::text::LINE),
    ] {
        if v.is_empty() {
            errors.push(FieldError::new(field, "is required: copy it from the signed copy"));
        } else if v.chars().count() > max {
            errors.push(FieldError::new(field, crate::text::at_most(max)));
        }
    }
    let on = crate::proceedings::model::date(&mut errors, "signed_on", Some(&s.signed_on), true);
    if same_person(name, &user.name) {
        errors.push(FieldError::new(
            "signer_name",
            "the supervisor recording a signature made outside the system is never its signer: another supervisor records it",
        ));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let on = on.expect("checked");
    let mut tx = conn.begin().await?;
    let (d, c) = get(&mut tx, user, id, true).await?;
    if !user.may(crate::access::Action::SignDeterminations) {
        return Err(DomainError::Forbidden);
    }
    if d.status != Status::Submitted {
        return Err(DomainError::Conflict(format!(
            "an outside signature is recorded on a submitted draft whose text is that of the signed copy (this one is {})",
            d.status
        )));
    }
    let copy = crate::documents::db::get(&mut tx, s.signed_copy)
        .await?
        .filter(|doc| doc.case_id == c.id)
        .ok_or_else(|| DomainError::invalid("signed_copy", "is not a document of this case"))?;
    let Some(copy_hash) = copy.sha256.clone().filter(|h| h.len() == 32) else {
        return Err(DomainError::invalid(
            "signed_copy",
            "must be an uploaded file (a classified-reference pointer has no content to hash)",
        ));
    };
    crate::dates::check_dated(
        "signed_on",
        on,
        now,
        &[(&format!("the case reached {}", c.stage.label()), c.stage_since)],
        s.late_reason.as_deref(),
    )?;
    if let Some(why) = why_not_signable(d.kind(), &c, user, on) {
        return Err(DomainError::Conflict(why));
    }
    sqlx::query!(
        "UPDATE determinations SET status = $2, outside_signer = $3, signer_title = $4, signer_authority = $5, \
         signed_on = $6, signed_copy_id = $7, signed_copy_sha256 = $8, recorded_by = $9, recorded_at = $10 \
         WHERE id = $1 AND status = $11",
        id.0,
        Status::Recorded as _,
        name,
        title,
        authority,
        on,
        copy.id.0,
        &copy_hash,
        user.id.0,
        now,
        Status::Submitted as _,
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::DeterminationSignatureRecorded).object("case", c.id).changes(json!({
        "determination": id, "revision": d.revision, "status": {"before": "submitted", "after": "recorded"},
        "signer": name, "signer_title": title, "authority": authority, "signed_on": on,
        "signed_copy": copy.id, "signed_copy_sha256": hex::encode(&copy_hash),
        "late_reason": crate::dates::late_reason_of(s.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message = format!(
        "{}: {} signed outside the system by {name}, recorded by {}, awaits your confirmation",
        c.docket_number,
        d.kind().label(),
        user.name
    );
    let link = format!("/determinations/{id}");
    notifications::resolve(&mut tx, now, notifications::Kind::AwaitingSignature, &link).await?;
    let note = Note::on_case(notifications::Kind::AwaitingSignature, c.id, &message, &link);
    notifications::notify_supervisors(&mut tx, now, mail, Some(user.id), &note).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

/// Confirms a recorded outside signature: a second supervisor (neither the one who
/// recorded it nor the drafter), re-authenticated within the last 5 minutes, who has
/// checked the text against the signed copy. The content hash is computed as for any
/// signature and the case moves on as [`sign`] does, with the signature's own date.
pub async fn confirm_outside(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    mail: bool,
) -> Result<Determination, DomainError> {
    let mut tx = conn.begin().await?;
    let (d, _) = get(&mut tx, user, id, true).await?;
    not_own(&d, user, "confirms")?;
    if d.recorded_by == Some(user.id) {
        return Err(DomainError::ForbiddenBecause(
            "a supervisor never confirms an outside signature they recorded: a second supervisor checks it against the signed copy".into(),
        ));
    }
    user.require_recent_reauth(now)?;
    if d.status != Status::Recorded {
        return Err(DomainError::Conflict(format!(
            "only a recorded outside signature is confirmed (this determination is {})",
            d.status
        )));
    }
    let c = visible(&mut tx, user, d.case_id, true).await?;
    not_filer(&c, user)?;
    let on = d.signed_on.expect("a recorded signature has its date");
    if let Some(why) = why_not_signable(d.kind(), &c, user, on) {
        return Err(DomainError::Conflict(why));
    }
    let hash = d.computed_hash();
    let reauth_at = user.reauth_at.expect("checked above");
    let n = sqlx::query!(
        "UPDATE determinations SET status = $2, signed_at = $3, reauth_at = $4, content_sha256 = $5, confirmed_by = $6 \
         WHERE id = $1 AND status = $7",
        id.0,
        Status::Signed as _,
        now,
        reauth_at,
        &hash[..],
        user.id.0,
        Status::Recorded as _,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(DomainError::Conflict("this determination is already signed".into()));
    }
    let stage_after = take_effect(&mut tx, user, now, &d, &c).await?;
    let mut changes = json!({
        "determination": id, "kind": d.kind, "outcome": d.outcome, "revision": d.revision,
        "content_sha256": hex::encode(hash), "reauth_at": reauth_at, "status": {"before": "recorded", "after": "signed"},
        "signed_outside_the_system": true, "signer": d.outside_signer, "signed_on": on,
        "signed_copy_sha256": d.signed_copy_sha256.as_deref().map(hex::encode), "recorded_by": d.recorded_by,
    });
    if stage_after != c.stage {
        changes["stage"] = json!({"before": c.stage, "after": stage_after});
    }
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::DeterminationSigned).object("case", c.id).changes(changes),
    )
    .await?;
    let message = format!(
        "{}: the outside signature of your {} was confirmed by {}",
        c.docket_number,
        d.kind().label().to_lowercase(),
        user.name
    );
    tell_drafter(&mut tx, now, &d, notifications::Kind::Signed, &message, mail).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
}

/// After a signature or a return: nobody is asked to sign any more, and the drafter is told.
async fn tell_drafter(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    d: &Determination,
    kind: notifications::Kind,
    message: &str,
    mail: bool,
) -> Result<(), DomainError> {
    let link = format!("/determinations/{}", d.id);
    notifications::resolve(&mut *conn, now, notifications::Kind::AwaitingSignature, &link).await?;
    notifications::notify(conn, now, mail, d.drafted_by, &Note::on_case(kind, d.case_id, message, &link)).await?;
    Ok(())
}

/// The saved revisions of a determination: (revision, outcome, who, when), oldest first.
pub async fn revisions(
    conn: &mut PgConnection,
    id: DeterminationId,
) -> Result<Vec<(i32, String, String, OffsetDateTime)>, DomainError> {
    Ok(sqlx::query!(
        "SELECT r.revision, r.outcome, u.name, r.saved_at FROM determination_revisions r JOIN users u ON u.id = r.saved_by \
         WHERE r.determination_id = $1 ORDER BY r.revision",
        id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.revision, r.outcome, r.name, r.saved_at))
    .collect())
}

/// The returns of a determination: (revision, comment, who, when).
pub async fn returns(
    conn: &mut PgConnection,
    id: DeterminationId,
) -> Result<Vec<(i32, String, String, OffsetDateTime)>, DomainError> {
    Ok(sqlx::query!(
        "SELECT r.revision, r.comment, u.name, r.returned_at FROM determination_returns r JOIN users u ON u.id = r.returned_by \
         WHERE r.determination_id = $1 ORDER BY r.returned_at",
        id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.revision, r.comment, r.name, r.returned_at))
    .collect())
}

/// A signed final determination (or its amendment or revocation) that may be sent and
/// published, with its case, locked; the assigned analyst or a supervisor records it.
async fn issued(
    conn: &mut PgConnection,
    user: &Actor,
    id: DeterminationId,
) -> Result<(Determination, CaseRow, time::Date), DomainError> {
    let (d, c) = get(conn, user, id, true).await?;
    crate::proceedings::service::may_work(user, &c)?;
    let signed = match (d.kind(), d.signature_date()) {
        (Kind::Initial, _) => {
            return Err(DomainError::Conflict(
                "an initial determination is served on the parties (record its service on the case)".into(),
            ));
        }
        (_, Some(on)) => on,
        (_, None) => return Err(DomainError::Conflict("only a signed determination is sent or published".into())),
    };
    Ok((d, c, signed))
}

/// Records that a signed final determination was sent to a party or an agency (7.109(e)).
pub async fn record_sending(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    s: super::NewSending,
) -> Result<super::Sending, DomainError> {
    let mut errors = Vec::new();
    let recipient = s.recipient.trim();
    if recipient.is_empty() || recipient.chars().count() > crate::text::NAME {
        errors.push(FieldError::new("recipient", "name the party or agency it was sent to (at most 300 characters)"));
    }
    let recipient_kind = s.recipient_kind.or_error("recipient_kind", "must be party or agency", &mut errors);
    let method = s.method.or_error(
        "method",
        "choose registered_mail, electronic_mail, facsimile, commercial_carrier or personal_delivery",
        &mut errors,
    );
    let on = crate::proceedings::model::date(&mut errors, "sent_on", s.sent_on.as_deref(), false);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let on = on.unwrap_or_else(|| crate::dates::today(now));
    let (recipient_kind, method) = (recipient_kind.expect("checked"), method.expect("checked"));
    let mut tx = conn.begin().await?;
    let (d, c, signed) = issued(&mut tx, user, id).await?;
    crate::dates::check_dated("sent_on", on, now, &[("its signature", Some(signed))], s.late_reason.as_deref())?;
    let sid = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO determination_sendings (id, determination_id, recipient, recipient_kind, method, sent_on, recorded_by, recorded_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        sid,
        id.0,
        recipient,
        recipient_kind.as_str(),
        method.as_str(),
        on,
        user.id.0,
        now
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::DeterminationSent).object("case", c.id).changes(json!({
        "determination": id, "kind": d.kind().as_str(), "recipient": recipient, "recipient_kind": recipient_kind,
        "method": method, "sent_on": on, "late_reason": crate::dates::late_reason_of(s.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(super::Sending { id: sid, recipient: recipient.to_string(), recipient_kind, method, sent_on: on })
}

/// Records the Federal Register publication of a signed final determination (7.109(f)):
/// date, citation and document number; once.
pub async fn record_publication(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeterminationId,
    p: super::NewPublication,
) -> Result<super::Publication, DomainError> {
    let mut errors = Vec::new();
    let on = crate::proceedings::model::date(&mut errors, "published_on", Some(&p.published_on), true);
    let citation = super::parse_citation(&p.citation);
    if citation.is_none() {
        errors.push(FieldError::new("citation", "must be a Federal Register citation such as 89 FR 52434"));
    }
    let number = super::parse_document_number(&p.document_number);
    if number.is_none() {
        errors
            .push(FieldError::new("document_number", "must be a Federal Register document number such as 2024-13532"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let (on, citation, number) = (on.expect("checked"), citation.expect("checked"), number.expect("checked"));
    let mut tx = conn.begin().await?;
    let (d, c, signed) = issued(&mut tx, user, id).await?;
    crate::dates::check_dated("published_on", on, now, &[("its signature", Some(signed))], p.late_reason.as_deref())?;
    if let Some(before) = super::db::publication(&mut tx, id).await? {
        return Err(DomainError::Conflict(format!(
            "its publication is already recorded ({}, {})",
            before.citation, before.published_on
        )));
    }
    sqlx::query!(
        "INSERT INTO determination_publications (determination_id, published_on, citation, document_number, recorded_by, recorded_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
        id.0,
        on,
        citation,
        number,
        user.id.0,
        now
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::DeterminationPublished).object("case", c.id).changes(json!({
        "determination": id, "kind": d.kind().as_str(), "published_on": on, "citation": citation,
        "document_number": number, "late_reason": crate::dates::late_reason_of(p.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(super::Publication { published_on: on, citation, document_number: number })
}
