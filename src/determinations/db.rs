//! Determinations' SQL: drafts, revisions, returns, signatures, sendings and
//! publications, checked against the schema at compile time (the list of every
//! determination is built at run time from its filters).

use std::collections::HashMap;

use crate::ids::{AssessmentId, CaseId, DeterminationId, DocumentId, MeasureId, SubmissionId, UserId};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::model::{DeterminationFilter, DeterminationSort, Listing};
use super::{Determination, Kind, Outcome, Status};
use crate::cases::workflow::Decision;
use crate::mitigation::MeasureStatus;

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

/// A determination, locked for the caller's transaction when `lock`.
pub async fn get(
    conn: &mut PgConnection,
    id: DeterminationId,
    lock: bool,
) -> Result<Option<Determination>, sqlx::Error> {
    if lock {
        select_determinations!("WHERE d.id = $1 FOR UPDATE OF d", id.0).fetch_optional(conn).await
    } else {
        select_determinations!("WHERE d.id = $1", id.0).fetch_optional(conn).await
    }
}

/// The determinations of a case, oldest first.
pub async fn of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Determination>, sqlx::Error> {
    select_determinations!("WHERE d.case_id = $1 ORDER BY d.created_at, d.id", case_id.0).fetch_all(conn).await
}

/// The determinations of a listing (at most 500) on the cases `user` may see: restricted
/// ones too when `sees_restricted`, else only those they are assigned.
pub async fn listed(
    conn: &mut PgConnection,
    which: &Listing,
    user: UserId,
    sees_restricted: bool,
) -> Result<Vec<Determination>, sqlx::Error> {
    match which {
        Listing::AwaitingSignature => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status IN ('submitted', 'recorded') ORDER BY coalesce(d.recorded_at, d.submitted_at), d.id LIMIT 500",
                user.0,
                sees_restricted
            )
            .fetch_all(conn)
            .await
        }
        Listing::AwaitingMySignature => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status IN ('submitted', 'recorded') AND d.drafted_by <> $1
                 AND d.recorded_by IS DISTINCT FROM $1 AND c.created_by IS DISTINCT FROM $1
                 ORDER BY coalesce(d.recorded_at, d.submitted_at), d.id LIMIT 500",
                user.0,
                sees_restricted
            )
            .fetch_all(conn)
            .await
        }
        Listing::UnsignedByMe => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.drafted_by = $1 AND d.status <> 'signed' ORDER BY d.updated_at DESC, d.id LIMIT 500",
                user.0,
                sees_restricted
            )
            .fetch_all(conn)
            .await
        }
        Listing::ReturnedBy => {
            select_determinations!(
                "JOIN cases c ON c.id = d.case_id WHERE ($2 OR NOT c.restricted OR c.assignee = $1)
                 AND d.status = 'returned' AND EXISTS (SELECT 1 FROM determination_returns r
                 WHERE r.determination_id = d.id AND r.returned_by = $1) ORDER BY d.updated_at DESC, d.id LIMIT 500",
                user.0,
                sees_restricted
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// The docket number and title of each of the cases `ids`.
pub async fn dockets_and_titles(
    conn: &mut PgConnection,
    ids: &[CaseId],
) -> Result<HashMap<CaseId, (String, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT id AS "id: CaseId", docket_number, title FROM cases WHERE id = ANY($1)"#, ids as _)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, (r.docket_number, r.title)))
        .collect())
}

/// The list's `FROM` and filters: the cases `user` may see (need-to-know, restricted ones
/// too when `sees_restricted`), the status and kind `f` asks for.
fn push_filters(qb: &mut QueryBuilder<Postgres>, user: UserId, sees_restricted: bool, f: &DeterminationFilter) {
    qb.push(" FROM determinations d JOIN cases c ON c.id = d.case_id WHERE (")
        .push_bind(sees_restricted)
        .push(" OR NOT c.restricted OR c.assignee = ")
        .push_bind(user.0)
        .push(")");
    if let Some(st) = f.status {
        qb.push(" AND d.status = ").push_bind(st.as_str()).push("::text");
    }
    if let Some(k) = f.kind {
        qb.push(" AND d.kind = ").push_bind(k.as_str());
    }
}

/// The id, last change and case docket number of a page of the list of every determination
/// (see [`push_filters`]), with one row more than the page when there is more: by keyset
/// on the order's columns, walked backwards for the page before the cursor.
pub async fn page_keys(
    conn: &mut PgConnection,
    user: UserId,
    sees_restricted: bool,
    f: &DeterminationFilter,
) -> Result<Vec<(Uuid, OffsetDateTime, String)>, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the filters, order and cursor come from the request")]
    let mut qb = QueryBuilder::new("SELECT d.id, d.updated_at, c.docket_number");
    push_filters(&mut qb, user, sees_restricted, f);
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
    qb.build_query_as().fetch_all(conn).await
}

/// How many determinations the list's filters keep (see [`push_filters`]), counted up to
/// one more than [`crate::db::Total::CAP`].
pub async fn count(
    conn: &mut PgConnection,
    user: UserId,
    sees_restricted: bool,
    f: &DeterminationFilter,
) -> Result<i64, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the filters come from the request")]
    let mut qb = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
    push_filters(&mut qb, user, sees_restricted, f);
    qb.push(" LIMIT ").push_bind(crate::db::Total::CAP + 1).push(") x");
    qb.build_query_scalar().fetch_one(conn).await
}

/// The determinations `ids`, in no particular order.
pub async fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Determination>, sqlx::Error> {
    select_determinations!("JOIN unnest($1::uuid[]) AS w(id) ON w.id = d.id", ids).fetch_all(conn).await
}

/// The documents among `ids` that belong to the case, with their marking.
pub async fn markings(
    conn: &mut PgConnection,
    case_id: CaseId,
    ids: &[DocumentId],
) -> Result<Vec<(DocumentId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: DocumentId", marking::text AS "marking!" FROM documents WHERE case_id = $1 AND id = ANY($2)"#,
        case_id.0,
        ids as _
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.marking))
    .collect())
}

/// The submissions of a case with their kind.
pub async fn submission_kinds(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<(SubmissionId, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT id AS "id: SubmissionId", kind FROM case_submissions WHERE case_id = $1"#, case_id.0)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.kind))
        .collect())
}

/// The mitigation measures among `ids` that belong to the case, with their status.
pub async fn measure_statuses(
    conn: &mut PgConnection,
    case_id: CaseId,
    ids: &[MeasureId],
) -> Result<Vec<(MeasureId, MeasureStatus)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: MeasureId", status AS "status: crate::mitigation::MeasureStatus"
         FROM mitigation_measures WHERE case_id = $1 AND id = ANY($2)"#,
        case_id.0,
        ids as _
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.status))
    .collect())
}

/// The case's latest risk assessment, if any.
pub async fn current_assessment(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM assessments WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        case_id.0,
    )
    .fetch_optional(conn)
    .await
}

/// The case's last signed final determination or amendment, if any.
pub async fn last_signed_final(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM determinations WHERE case_id = $1 AND status = 'signed' AND kind IN ('final', 'amendment') \
         ORDER BY signed_at DESC LIMIT 1",
        case_id.0,
    )
    .fetch_optional(conn)
    .await
}

/// Whether the case has an unsigned draft of `kind` (an amendment and a revocation count
/// as one kind).
pub async fn has_open_draft(conn: &mut PgConnection, case_id: CaseId, kind: Kind) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM determinations WHERE case_id = $1 AND status <> 'signed' AND (kind = $2 OR (kind IN ('amendment', 'revocation') AND $2 IN ('amendment', 'revocation')))) AS "v!""#,
        case_id.0,
        kind.as_str(),
    )
    .fetch_one(conn)
    .await
}

/// What a draft says, as saved.
pub struct DraftRow<'a> {
    pub outcome: &'a str,
    pub content: &'a serde_json::Value,
    pub cited_documents: &'a [DocumentId],
    pub unclassified_confirmed: bool,
    /// The case's latest risk assessment when it was saved.
    pub assessment_id: Option<Uuid>,
}

/// Inserts a new draft of `kind` on a case (superseding a signed final determination, for
/// an amendment or a revocation), drafted by `by` at `at`.
pub async fn insert(
    conn: &mut PgConnection,
    id: DeterminationId,
    case_id: CaseId,
    (kind, supersedes): (Kind, Option<Uuid>),
    d: &DraftRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO determinations (id, case_id, kind, supersedes, outcome, content, assessment_id, cited_documents, \
         unclassified_confirmed, drafted_by, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)",
        id.0,
        case_id.0,
        kind.as_str(),
        supersedes,
        d.outcome,
        d.content,
        d.assessment_id,
        d.cited_documents as _,
        d.unclassified_confirmed,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Saves a draft's text over revision `from` as revision `to` (nothing when it is no longer
/// at `from`).
pub async fn update_draft(
    conn: &mut PgConnection,
    id: DeterminationId,
    (from, to): (i32, i32),
    d: &DraftRow<'_>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE determinations SET outcome = $2, content = $3, cited_documents = $4, unclassified_confirmed = $5, \
         assessment_id = $6, revision = $7, updated_at = $8 WHERE id = $1 AND revision = $9",
        id.0,
        d.outcome,
        d.content,
        d.cited_documents as _,
        d.unclassified_confirmed,
        d.assessment_id,
        to,
        now,
        from
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a revision of a draft: its outcome and content, saved by `by` at `at`.
pub async fn insert_revision(
    conn: &mut PgConnection,
    id: DeterminationId,
    revision: i32,
    outcome: &str,
    content: &serde_json::Value,
    (by, at): (UserId, OffsetDateTime),
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

/// Marks a draft submitted for signature at `at`.
pub async fn set_submitted(
    conn: &mut PgConnection,
    id: DeterminationId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE determinations SET status = $3, submitted_at = $2 WHERE id = $1",
        id.0,
        at,
        Status::Submitted as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a draft returned to its drafter, dropping any recorded outside signature.
pub async fn set_returned(conn: &mut PgConnection, id: DeterminationId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE determinations SET status = $2, outside_signer = NULL, signer_title = NULL, signer_authority = NULL, \
         signed_on = NULL, signed_copy_id = NULL, signed_copy_sha256 = NULL, recorded_by = NULL, recorded_at = NULL \
         WHERE id = $1",
        id.0,
        Status::Returned as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the return of a draft's `revision` with its comment, by `by` at `at`.
pub async fn insert_return(
    conn: &mut PgConnection,
    id: DeterminationId,
    revision: i32,
    comment: &str,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO determination_returns (id, determination_id, revision, comment, returned_by, returned_at) VALUES ($1,$2,$3,$4,$5,$6)",
        Uuid::now_v7(),
        id.0,
        revision,
        comment,
        by.0,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A signature in the system, as stored.
pub struct SignatureRow<'a> {
    pub signed_by: UserId,
    pub signed_at: OffsetDateTime,
    pub reauth_at: OffsetDateTime,
    pub content_sha256: &'a [u8],
    pub signed_on: Date,
    pub signer_title: &'a str,
    pub signer_authority: &'a str,
}

/// Signs a submitted determination; `false` when it was no longer submitted.
pub async fn sign(conn: &mut PgConnection, id: DeterminationId, s: &SignatureRow<'_>) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "UPDATE determinations SET status = $6, signed_by = $2, signed_at = $3, reauth_at = $4, content_sha256 = $5, \
         signed_on = $8, signer_title = $9, signer_authority = $10 WHERE id = $1 AND status = $7",
        id.0,
        s.signed_by.0,
        s.signed_at,
        s.reauth_at,
        s.content_sha256,
        Status::Signed as _,
        Status::Submitted as _,
        s.signed_on,
        s.signer_title,
        s.signer_authority,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Records that the case's initial determination was signed, by `by` at `at`.
pub async fn set_initial_signed(
    conn: &mut PgConnection,
    case_id: CaseId,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET initial_signed_by = $2, initial_signed_at = $3 WHERE id = $1", case_id.0, by.0, at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the case's final decision, signed by `by` at `at`.
pub async fn set_final_decision(
    conn: &mut PgConnection,
    case_id: CaseId,
    decision: Decision,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET final_decision = $2, final_signed_by = $3, final_signed_at = $4 WHERE id = $1",
        case_id.0,
        decision as _,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A signature made outside the system, as recorded from its signed copy.
pub struct OutsideRow<'a> {
    pub signer: &'a str,
    pub signer_title: &'a str,
    pub signer_authority: &'a str,
    pub signed_on: Date,
    pub signed_copy_id: DocumentId,
    pub signed_copy_sha256: &'a [u8],
}

/// Records an outside signature on a submitted determination, by `by` at `at` (nothing
/// when it is no longer submitted).
pub async fn record_outside(
    conn: &mut PgConnection,
    id: DeterminationId,
    o: &OutsideRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE determinations SET status = $2, outside_signer = $3, signer_title = $4, signer_authority = $5, \
         signed_on = $6, signed_copy_id = $7, signed_copy_sha256 = $8, recorded_by = $9, recorded_at = $10 \
         WHERE id = $1 AND status = $11",
        id.0,
        Status::Recorded as _,
        o.signer,
        o.signer_title,
        o.signer_authority,
        o.signed_on,
        o.signed_copy_id.0,
        o.signed_copy_sha256,
        by.0,
        at,
        Status::Submitted as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Confirms a recorded outside signature, by `by` at `at` (re-authenticated at
/// `reauth_at`), with the content's hash; `false` when it was no longer recorded.
pub async fn confirm_outside(
    conn: &mut PgConnection,
    id: DeterminationId,
    (reauth_at, content_sha256): (OffsetDateTime, &[u8]),
    (by, at): (UserId, OffsetDateTime),
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "UPDATE determinations SET status = $2, signed_at = $3, reauth_at = $4, content_sha256 = $5, confirmed_by = $6 \
         WHERE id = $1 AND status = $7",
        id.0,
        Status::Signed as _,
        at,
        reauth_at,
        content_sha256,
        by.0,
        Status::Recorded as _,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The saved revisions of a determination: (revision, outcome, who, when), oldest first.
pub async fn revisions(
    conn: &mut PgConnection,
    id: DeterminationId,
) -> Result<Vec<(i32, String, String, OffsetDateTime)>, sqlx::Error> {
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
) -> Result<Vec<(i32, String, String, OffsetDateTime)>, sqlx::Error> {
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

/// Records that a determination was sent to a recipient on `on`, by `by` at `at`.
pub async fn insert_sending(
    conn: &mut PgConnection,
    id: DeterminationId,
    s: &super::Sending,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO determination_sendings (id, determination_id, recipient, recipient_kind, method, sent_on, recorded_by, recorded_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        s.id,
        id.0,
        s.recipient,
        s.recipient_kind.as_str(),
        s.method.as_str(),
        s.sent_on,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a determination's Federal Register publication, by `by` at `at`.
pub async fn insert_publication(
    conn: &mut PgConnection,
    id: DeterminationId,
    p: &super::Publication,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO determination_publications (determination_id, published_on, citation, document_number, recorded_by, recorded_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
        id.0,
        p.published_on,
        p.citation,
        p.document_number,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The title and authority `signer` stated at their last signature in the system.
pub async fn last_statement(conn: &mut PgConnection, signer: UserId) -> Result<Option<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT signer_title AS "title!", signer_authority AS "authority!" FROM determinations
           WHERE signed_by = $1 AND signer_title IS NOT NULL AND signer_authority IS NOT NULL
           ORDER BY signed_at DESC LIMIT 1"#,
        signer.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.title, r.authority)))
}

/// The score of the assessment a determination rests on: composite, band, when, rubric.
pub async fn assessment_summary(
    conn: &mut PgConnection,
    id: AssessmentId,
) -> Result<Option<(f64, String, OffsetDateTime, i32)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT composite::float8 AS "composite!", band::text AS "band!", created_at, rubric_version FROM assessments WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.composite, r.band, r.created_at, r.rubric_version)))
}

/// The name of a case's first party (by role), for a new draft's title.
pub async fn first_party_name(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT p.legal_name FROM case_parties cp JOIN parties p ON p.id = cp.party_id WHERE cp.case_id = $1 ORDER BY cp.role LIMIT 1",
        case_id.0
    )
    .fetch_optional(conn)
    .await
}

/// The sendings of a determination, in the order they were sent.
pub async fn sendings(conn: &mut PgConnection, id: DeterminationId) -> Result<Vec<super::Sending>, sqlx::Error> {
    sqlx::query_as!(
        super::Sending,
        r#"SELECT id, recipient, recipient_kind AS "recipient_kind: super::RecipientKind",
             method AS "method: super::SendingMethod", sent_on
           FROM determination_sendings WHERE determination_id = $1 ORDER BY sent_on, recorded_at, id"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// The Federal Register publication of a determination, if recorded.
pub async fn publication(
    conn: &mut PgConnection,
    id: DeterminationId,
) -> Result<Option<super::Publication>, sqlx::Error> {
    sqlx::query_as!(
        super::Publication,
        "SELECT published_on, citation, document_number FROM determination_publications WHERE determination_id = $1",
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// The Federal Register publications of a case's determinations: citation and date.
pub async fn publications_of_case(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<super::Publication>, sqlx::Error> {
    sqlx::query_as!(
        super::Publication,
        "SELECT p.published_on, p.citation, p.document_number FROM determination_publications p \
         JOIN determinations d ON d.id = p.determination_id WHERE d.case_id = $1 ORDER BY p.published_on",
        case_id.0
    )
    .fetch_all(conn)
    .await
}
