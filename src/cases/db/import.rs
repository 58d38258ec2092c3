//! The SQL of the CSV intake ([`crate::cases::import`]): bulk statements over arrays, one
//! per chunk of rows, and the background jobs that run an intake.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::cases::import::{ImportRow, Job};
use crate::cases::model::NewCase;
use crate::ids::{CaseId, PartyId, TransactionId, UserId};

/// Of `dockets`, the docket numbers that some case has.
pub async fn existing_dockets(conn: &mut PgConnection, dockets: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT docket_number FROM cases WHERE docket_number = ANY($1)", dockets).fetch_all(conn).await
}

/// Turns the bulk-load setting of the caller's transaction on or off: while it is on, the
/// rows written bring their own search documents (see migration 0003).
pub async fn set_bulk_load(conn: &mut PgConnection, on: bool) -> Result<(), sqlx::Error> {
    if on {
        sqlx::query_scalar!("SELECT set_config('icts.bulk_load', 'on', true)").fetch_one(conn).await?;
    } else {
        sqlx::query_scalar!("SELECT set_config('icts.bulk_load', 'off', true)").fetch_one(conn).await?;
    }
    Ok(())
}

/// The cases named by `dockets` that exist: (docket number, id).
pub async fn cases_by_docket(
    conn: &mut PgConnection,
    dockets: &[String],
) -> Result<Vec<(String, CaseId)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT docket_number, id AS "id: CaseId" FROM cases WHERE docket_number = ANY($1)"#, dockets)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.docket_number, r.id))
        .collect())
}

/// The parties registered under the pairs (`names[i]`, `countries[i]`), the oldest of each
/// pair: (legal name, country, id).
pub async fn parties_named(
    conn: &mut PgConnection,
    names: &[String],
    countries: &[String],
) -> Result<Vec<(String, String, PartyId)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT DISTINCT ON (p.legal_name, p.country) p.legal_name, p.country, p.id AS "id: PartyId" FROM parties p
         JOIN UNNEST($1::text[], $2::text[]) AS k(name, country) ON p.legal_name = k.name AND p.country = k.country ORDER BY p.legal_name, p.country, p.created_at"#,
        names,
        countries
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.legal_name, r.country, r.id))
    .collect())
}

/// Registers companies `(ids[i], names[i], countries[i])` in one statement.
pub async fn insert_parties(
    conn: &mut PgConnection,
    (ids, names, countries): (&[PartyId], &[String], &[String]),
    user: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO parties (id, legal_name, kind, country, created_by, created_at, updated_at) \
         SELECT id, name, 'company', country, $4, $5, $5 FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS t(id, name, country)",
        ids as _,
        names,
        countries,
        user as _,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Of `parties`, those with a hit on the newest screening list that is not dismissed.
pub async fn parties_with_hits(conn: &mut PgConnection, parties: &[PartyId]) -> Result<Vec<PartyId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT party_id AS "party_id: PartyId" FROM screening_hits WHERE party_id = ANY($1) AND status <> 'dismissed'
         AND list_version = (SELECT max(version) FROM screening_lists)"#,
        parties as _,
    )
    .fetch_all(conn)
    .await
}

/// Takes the next `count` docket numbers of `year` in one step; returns the last of them.
/// The counter row stays locked until the calling transaction ends.
pub async fn reserve_dockets(conn: &mut PgConnection, year: i32, count: i32) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO docket_counters (year, last) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE SET last = docket_counters.last + $2 RETURNING last",
        year,
        count,
    )
    .fetch_one(conn)
    .await
}

/// A case that an intake opens.
pub struct OpenedCase<'a> {
    pub id: CaseId,
    pub docket: String,
    /// What its row says of it.
    pub case: &'a NewCase,
    /// The names of its row's parties, for its search document.
    pub party_names: String,
    /// Its preliminary triage score.
    pub score: i32,
}

/// Inserts `cases` at intake in one statement, each with its search document.
pub async fn insert_cases(
    conn: &mut PgConnection,
    cases: &[OpenedCase<'_>],
    user: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cases (id, docket_number, title, summary, origin, referring_agency, referral_date, category, adversaries, restricted, \
         created_by, created_at, updated_at, preliminary_score, search_doc) \
         SELECT id, docket, title, summary, origin::case_origin, agency, rdate, category, string_to_array(advs, ';'), restricted, $11, $12, $12, score, \
           setweight(to_tsvector('simple', docket), 'A') || setweight(to_tsvector('english', title), 'A') \
           || setweight(to_tsvector('english', summary), 'B') || setweight(to_tsvector('simple', names), 'B') \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::text[], $9::text[], $10::bool[], $13::text[], $14::int[]) \
         AS t(id, docket, title, summary, origin, agency, rdate, category, advs, restricted, names, score)",
        &cases.iter().map(|c| c.id).collect::<Vec<_>>() as _,
        &cases.iter().map(|c| c.docket.clone()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.title.clone()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.summary.clone()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.origin.as_str().to_string()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.referring_agency.clone()).collect::<Vec<_>>() as _,
        &cases.iter().map(|c| c.case.referral_date).collect::<Vec<_>>() as _,
        &cases.iter().map(|c| c.case.category.clone()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.adversaries.join(";")).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.case.restricted).collect::<Vec<_>>(),
        user as _,
        now,
        &cases.iter().map(|c| c.party_names.clone()).collect::<Vec<_>>(),
        &cases.iter().map(|c| c.score).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts the transactions of `rows` in one statement, the one of `rows[i]` as `ids[i]`
/// on case `cases[i]`.
pub async fn insert_transactions(
    conn: &mut PgConnection,
    (ids, cases): (&[TransactionId], &[CaseId]),
    rows: &[ImportRow],
    user: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let t = |f: &dyn Fn(&ImportRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    sqlx::query!(
        "INSERT INTO transactions (id, case_id, item, kind, status, initiated_on, completed_on, ongoing_activity, value_usd, \
         us_persons_affected, data_categories, created_by, created_at) \
         SELECT id, case_id, item, kind, status, i, c, ongoing, value, persons, string_to_array(data, ';'), $12, $13 \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[], $8::text[], $9::float8[], $10::int8[], $11::text[]) \
         AS t(id, case_id, item, kind, status, i, c, ongoing, value, persons, data)",
        ids as _,
        cases as _,
        &t(&|r| r.transaction.item.clone()),
        &t(&|r| r.transaction.kind.as_str().to_string()),
        &t(&|r| r.transaction.status.as_str().to_string()),
        &rows.iter().map(|r| r.transaction.initiated_on).collect::<Vec<_>>() as _,
        &rows.iter().map(|r| r.transaction.completed_on).collect::<Vec<_>>() as _,
        &t(&|r| r.transaction.ongoing_activity.clone()),
        &rows.iter().map(|r| r.transaction.value_usd).collect::<Vec<_>>() as _,
        &rows.iter().map(|r| r.transaction.us_persons_affected).collect::<Vec<_>>() as _,
        &t(&|r| r.transaction.data_categories.join(";")),
        user as _,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Names party `parties[i]` in role `roles[i]` on transaction `transactions[i]`, in one
/// statement (a pair already there is left as it is).
pub async fn insert_transaction_parties(
    conn: &mut PgConnection,
    transactions: &[TransactionId],
    parties: &[PartyId],
    roles: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO transaction_parties (transaction_id, party_id, role) SELECT t, p, r::party_role FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS x(t, p, r) \
         ON CONFLICT DO NOTHING",
        transactions as _,
        parties as _,
        roles,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Links party `parties[i]` in role `roles[i]` to case `cases[i]`, in one statement (a
/// link already there is left as it is).
pub async fn insert_case_parties(
    conn: &mut PgConnection,
    (cases, parties, roles): (&[CaseId], &[PartyId], &[String]),
    user: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_parties (case_id, party_id, role, added_by, added_at) \
         SELECT DISTINCT c, p, r::party_role, $4::uuid, $5::timestamptz FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS x(c, p, r) ON CONFLICT DO NOTHING",
        cases as _,
        parties as _,
        roles,
        user as _,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the search documents of `cases`, to be computed again from their rows.
pub async fn clear_search_docs(conn: &mut PgConnection, cases: &[CaseId]) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET search_doc = NULL WHERE id = ANY($1)", cases as _).execute(conn).await?;
    Ok(())
}

/// Records import job `id` of `rows` rows from `file_name`, running since `now`.
pub async fn insert_job(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    (user, now): (UserId, OffsetDateTime),
    file_name: &str,
    rows: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO import_jobs (id, created_by, created_at, file_name, rows, status, heartbeat_at) VALUES ($1, $2, $3, $4, $5, 'running', $3)",
        id,
        user.0,
        now,
        file_name,
        rows
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes how many rows running job `id` has loaded, with its heartbeat at `at`.
pub async fn job_progress(
    db: impl sqlx::PgExecutor<'_>,
    id: uuid::Uuid,
    done: i64,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE import_jobs SET done = least($2, rows), heartbeat_at = $3 WHERE id = $1 AND status = 'running'",
        id,
        done,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records that job `id` loaded all its rows at `at`, with what it did.
pub async fn job_done(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    report: Value,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE import_jobs SET status = 'done', done = rows, report = $2, heartbeat_at = $3, finished_at = $3 WHERE id = $1",
        id,
        report,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that job `id` failed at `at`, and why.
pub async fn job_failed(
    db: impl sqlx::PgExecutor<'_>,
    id: uuid::Uuid,
    why: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE import_jobs SET status = 'failed', error = $2, heartbeat_at = $3, finished_at = $3 WHERE id = $1",
        id,
        why,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One import job.
pub async fn job(conn: &mut PgConnection, id: uuid::Uuid) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as!(
        Job,
        r#"SELECT id, created_by AS "created_by: UserId", created_at, file_name, rows, done, status, heartbeat_at,
           finished_at, report, error FROM import_jobs WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The user's latest imports, newest first.
pub async fn jobs_of(conn: &mut PgConnection, user: UserId, limit: i64) -> Result<Vec<Job>, sqlx::Error> {
    sqlx::query_as!(
        Job,
        r#"SELECT id, created_by AS "created_by: UserId", created_at, file_name, rows, done, status, heartbeat_at,
           finished_at, report, error FROM import_jobs WHERE created_by = $1 ORDER BY created_at DESC LIMIT $2"#,
        user.0,
        limit
    )
    .fetch_all(conn)
    .await
}
