//! The party registry's and the screening lists' SQL, checked against the schema at
//! compile time (the registry's list page, whose search, order and cursor come from the
//! request, is built at run time): parties, their ownership chains, nexus evidence and
//! links to cases; list versions, their entries and the hits on parties.

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::model::{
    CaseLink, CaseParty, Evidence, NexusCriterion, Party, PartyFilter, PartyKind, PartyRole, PartySort, ValidParty,
};
use super::screening_service::{Hit, HitStatus, ListEntry, ListVersion};
use crate::access::Actor;
use crate::ids::{CaseId, EvidenceId, HitId, PartyId, UserId};

/// `query_as!` over the columns of [`Party`]: the rest of the statement after
/// `FROM parties`, then its parameters.
macro_rules! select_parties {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Party,
            r#"SELECT id AS "id: PartyId", legal_name, aliases, kind AS "kind: PartyKind", country,
               parent_id AS "parent_id: PartyId", ownership_pct::float8 AS ownership_pct, notes, version
               FROM parties "# + $rest
            $(, $arg)*
        )
    };
}

/// Loads a party.
pub async fn get(conn: &mut PgConnection, id: PartyId) -> Result<Option<Party>, sqlx::Error> {
    select_parties!("WHERE id = $1", id.0).fetch_optional(conn).await
}

/// Lists parties, optionally matching a name.
pub async fn list(conn: &mut PgConnection, q: Option<&str>, limit: i64) -> Result<Vec<Party>, sqlx::Error> {
    match q {
        Some(q) => {
            select_parties!(
                "WHERE party_search_text(legal_name, aliases) ILIKE $1 ORDER BY legal_name LIMIT $2",
                crate::db::contains_pattern(q),
                limit
            )
            .fetch_all(conn)
            .await
        }
        None => select_parties!("ORDER BY legal_name LIMIT $1", limit).fetch_all(conn).await,
    }
}

/// One party, locked for the caller's transaction.
pub async fn lock(conn: &mut PgConnection, id: PartyId) -> Result<Option<Party>, sqlx::Error> {
    select_parties!("WHERE id = $1 FOR UPDATE", id.0).fetch_optional(conn).await
}

fn push_party_search(qb: &mut sqlx::QueryBuilder<sqlx::Postgres>, q: &Option<String>) {
    if let Some(q) = q {
        qb.push(" AND party_search_text(legal_name, aliases) ILIKE ").push_bind(crate::db::contains_pattern(q));
    }
}

/// One page of the registry in `f`'s order, by keyset (the same index walked either way).
pub async fn page(conn: &mut PgConnection, f: &PartyFilter) -> Result<crate::db::Page<Party>, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the search, order and cursor come from the request")]
    let mut qb = sqlx::QueryBuilder::new(
        "SELECT id, legal_name, aliases, kind, country, parent_id, ownership_pct::float8 AS ownership_pct, notes, version \
         FROM parties WHERE true",
    );
    push_party_search(&mut qb, &f.q);
    if let Some((key, id)) = &f.after {
        let ascending = matches!(f.sort, PartySort::Name | PartySort::Country);
        let op = if ascending != f.backwards { ">" } else { "<" };
        match f.sort {
            PartySort::Name | PartySort::NameDesc => {
                qb.push(format!(" AND (legal_name, id) {op} ("))
                    .push_bind(key.clone())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
            PartySort::Country => {
                let (country, name) = key.split_once('|').unwrap_or((key.as_str(), ""));
                qb.push(format!(" AND (country, legal_name, id) {op} ("))
                    .push_bind(country.to_string())
                    .push(", ")
                    .push_bind(name.to_string())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
        }
    }
    qb.push(format!(" ORDER BY {} LIMIT ", f.sort.order(f.backwards))).push_bind(f.limit + 1);
    let rows: Vec<Party> = qb.build_query_as().fetch_all(conn).await?;
    let sort = f.sort;
    Ok(crate::db::Page::from_read(rows, f.limit, f.after.is_some(), f.backwards, |p| {
        format!("{}~{}", sort.key(p), p.id)
    }))
}

/// How many parties match `f`'s search, counted up to [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &PartyFilter) -> Result<crate::db::Total, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the search comes from the request")]
    let mut qb = sqlx::QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM parties WHERE true");
    push_party_search(&mut qb, &f.q);
    qb.push(" LIMIT ").push_bind(crate::db::Total::CAP + 1).push(") x");
    let n: i64 = qb.build_query_scalar().fetch_one(conn).await?;
    Ok(crate::db::Total::counted(n))
}

/// Whether party `id` exists.
pub async fn exists(conn: &mut PgConnection, id: PartyId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM parties WHERE id = $1) AS "v!""#, id.0).fetch_one(conn).await
}

/// Inserts a new party, created by `by` at `now`.
pub async fn insert(
    conn: &mut PgConnection,
    id: PartyId,
    p: &ValidParty,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO parties (id, legal_name, aliases, kind, country, parent_id, ownership_pct, notes, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7::float8,$8,$9,$10,$10)",
        id.0,
        &p.legal_name,
        &p.aliases,
        p.kind as _,
        &p.country,
        p.parent_id as _,
        p.ownership_pct,
        &p.notes,
        by.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a party's whole record and moves its version on.
pub async fn update(
    conn: &mut PgConnection,
    id: PartyId,
    p: &ValidParty,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE parties SET legal_name=$2, aliases=$3, kind=$4, country=$5, parent_id=$6, ownership_pct=$7::float8, notes=$8, \
         updated_at=$9, version = version + 1 WHERE id = $1",
        id.0,
        &p.legal_name,
        &p.aliases,
        p.kind as _,
        &p.country,
        p.parent_id as _,
        p.ownership_pct,
        &p.notes,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The ownership chain from `id` up (at most 20 levels): each party and its depth, the
/// party itself first.
pub async fn chain(conn: &mut PgConnection, id: PartyId) -> Result<Vec<(PartyId, i32)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"WITH RECURSIVE chain(id, parent_id, depth) AS (
           SELECT id, parent_id, 0 FROM parties WHERE id = $1
           UNION ALL SELECT p.id, p.parent_id, c.depth + 1 FROM parties p JOIN chain c ON p.id = c.parent_id WHERE c.depth < 20)
         SELECT id AS "id!: PartyId", depth AS "depth!" FROM chain ORDER BY depth"#,
        id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.depth))
    .collect())
}

/// The codes of the foreign adversaries in force.
pub async fn adversaries(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT code FROM ref_adversaries WHERE effective_to IS NULL OR effective_to > now()")
        .fetch_all(conn)
        .await
}

/// Whether `code` is a foreign adversary's.
pub async fn is_adversary(conn: &mut PgConnection, code: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM ref_adversaries WHERE code = $1) AS "v!""#, code,)
        .fetch_one(conn)
        .await
}

/// The first evidence recorded on one of the parties `ids` of ownership or control by the
/// PRC or Russia: the party's legal name and the adversary's code.
pub async fn prc_or_russia_control(
    conn: &mut PgConnection,
    ids: &[uuid::Uuid],
) -> Result<Option<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT p.legal_name, e.adversary FROM party_nexus_evidence e JOIN parties p ON p.id = e.party_id
           WHERE e.party_id = ANY($1) AND e.adversary IN ('CN', 'RU')
             AND e.criterion IN ('ownership', 'operation_control')
           ORDER BY e.recorded_at LIMIT 1"#,
        ids
    )
    .fetch_optional(conn)
    .await?
    .map(|f| (f.legal_name, f.adversary)))
}

/// The evidence recorded for a party.
pub async fn evidence(conn: &mut PgConnection, id: PartyId) -> Result<Vec<Evidence>, sqlx::Error> {
    sqlx::query_as!(
        Evidence,
        r#"SELECT id AS "id: EvidenceId", criterion AS "criterion: NexusCriterion", adversary, finding, source, recorded_at
         FROM party_nexus_evidence WHERE party_id = $1 ORDER BY recorded_at, id"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// Inserts a piece of nexus evidence on `party`, recorded by `by` at `now`.
#[expect(clippy::too_many_arguments, reason = "the evidence's columns")]
pub async fn insert_evidence(
    conn: &mut PgConnection,
    id: EvidenceId,
    party: PartyId,
    criterion: NexusCriterion,
    adversary: &str,
    finding: &str,
    source: &str,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO party_nexus_evidence (id, party_id, criterion, adversary, finding, source, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        id.0,
        party.0,
        criterion as _,
        adversary,
        finding,
        source,
        by.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The cases of a party that `user` may see.
pub async fn cases_of(conn: &mut PgConnection, party: PartyId, user: &Actor) -> Result<Vec<CaseLink>, sqlx::Error> {
    use crate::access::policy::{CaseScope, case_scope};
    let scope = case_scope(user.role);
    sqlx::query_as!(
        CaseLink,
        r#"SELECT c.id AS "case_id: CaseId", c.docket_number, c.title, cp.role AS "role: PartyRole"
         FROM case_parties cp JOIN cases c ON c.id = cp.case_id
         WHERE cp.party_id = $1 AND ($2 OR ($3 AND (NOT c.restricted OR c.assignee = $4)))
         ORDER BY c.docket_number"#,
        party.0,
        scope == CaseScope::All,
        scope == CaseScope::UnrestrictedOrAssigned,
        user.id.0
    )
    .fetch_all(conn)
    .await
}

/// The parties of a case.
pub async fn parties_of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<CaseParty>, sqlx::Error> {
    sqlx::query_as!(
        CaseParty,
        r#"SELECT p.id AS "party_id: PartyId", p.legal_name, p.country, cp.role AS "role: PartyRole"
         FROM case_parties cp JOIN parties p ON p.id = cp.party_id
         WHERE cp.case_id = $1 ORDER BY cp.role, p.legal_name"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// The nexus evidence recorded on a case's parties: party, criterion, finding.
pub async fn nexus_evidence_of_case(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT p.legal_name, e.criterion::text AS "criterion!", e.finding FROM case_parties cp JOIN parties p ON p.id = cp.party_id
           JOIN party_nexus_evidence e ON e.party_id = p.id WHERE cp.case_id = $1 ORDER BY p.legal_name, e.recorded_at"#,
        case_id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.legal_name, r.criterion, r.finding))
    .collect())
}

/// The newest list version, if a list was imported.
pub async fn current_list_version(conn: &mut PgConnection) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(version) FROM screening_lists").fetch_one(conn).await
}

/// The names and other names (`;`-separated) of a list version's entries, in entry order.
pub async fn entry_names(conn: &mut PgConnection, version: i32) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT name, alt_names FROM screening_entries WHERE list_version = $1 ORDER BY entry_no", version)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.name, r.alt_names))
        .collect())
}

/// A party's names, as screened.
pub struct PartyNames {
    pub id: PartyId,
    pub legal_name: String,
    pub aliases: Vec<String>,
}

/// The names of the parties `only` names, or of every party. Two statements, so that one
/// party's lookup keeps its index scan under a generic plan.
pub async fn names_of(conn: &mut PgConnection, only: Option<&[PartyId]>) -> Result<Vec<PartyNames>, sqlx::Error> {
    match only {
        Some(ids) => {
            sqlx::query_as!(
                PartyNames,
                r#"SELECT id AS "id: PartyId", legal_name, aliases FROM parties WHERE id = ANY($1)"#,
                ids as _
            )
            .fetch_all(conn)
            .await
        }
        None => {
            sqlx::query_as!(PartyNames, r#"SELECT id AS "id: PartyId", legal_name, aliases FROM parties"#)
                .fetch_all(conn)
                .await
        }
    }
}

/// New hits as columns for one bulk insert: id, party, entry, party name, matched name, score.
pub type HitColumns = (Vec<HitId>, Vec<PartyId>, Vec<i32>, Vec<String>, Vec<String>, Vec<f32>);

/// Inserts the hits `rows` of list version `version` that are not there yet; returns the
/// party of each hit inserted.
pub async fn insert_hits(
    conn: &mut PgConnection,
    version: i32,
    rows: &HitColumns,
    now: OffsetDateTime,
) -> Result<Vec<PartyId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO screening_hits (id, party_id, list_version, entry_no, party_name, matched_name, score, created_at)
             SELECT id, party, $3, entry, pname, mname, score, $8 FROM UNNEST($1::uuid[], $2::uuid[], $4::int[], $5::text[], $6::text[], $7::real[])
             AS t(id, party, entry, pname, mname, score) ON CONFLICT (party_id, list_version, entry_no) DO NOTHING RETURNING party_id AS "party_id: PartyId""#,
        &rows.0 as _,
        &rows.1 as _,
        version,
        &rows.2,
        &rows.3,
        &rows.4,
        &rows.5,
        now,
    )
    .fetch_all(conn)
    .await
}

/// Carries over to the open hits of list version `version` the decision taken on the same
/// party and the same listed entry (same source and name) in the latest earlier version.
pub async fn carry_over_decisions(
    conn: &mut PgConnection,
    version: i32,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE screening_hits h SET status = prev.status, decided_by = prev.decided_by, decided_at = $2, \
           reason = 'carried over from list version ' || prev.list_version || ': ' || prev.reason \
         FROM (SELECT DISTINCT ON (p.party_id, pe.source, pe.name) p.party_id, pe.source, pe.name, p.status, p.reason, p.decided_by, p.list_version \
               FROM screening_hits p JOIN screening_entries pe ON pe.list_version = p.list_version AND pe.entry_no = p.entry_no \
               WHERE p.status <> 'open' AND p.list_version < $1 ORDER BY p.party_id, pe.source, pe.name, p.list_version DESC) prev, \
              screening_entries he \
         WHERE h.list_version = $1 AND h.status = 'open' AND he.list_version = h.list_version AND he.entry_no = h.entry_no \
           AND prev.party_id = h.party_id AND prev.source = he.source AND prev.name = he.name",
        version,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the lock that imports of screening lists hold one at a time, until the
/// transaction ends.
pub async fn lock_screening_lists(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('screening_lists'))").execute(conn).await?;
    Ok(())
}

/// The number the next list version takes.
pub async fn next_list_version(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT coalesce(max(version), 0) + 1 AS "v!" FROM screening_lists"#).fetch_one(conn).await
}

/// Inserts a list version: the file's name and SHA-256, its number of entries, who
/// imported it and when.
pub async fn insert_list(
    conn: &mut PgConnection,
    version: i32,
    (file_name, sha256): (&str, &[u8]),
    entries: i32,
    by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO screening_lists (version, source_file, sha256, entries, imported_by, imported_at) VALUES ($1,$2,$3,$4,$5,$6)",
        version,
        file_name,
        sha256,
        entries,
        by as _,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts entries of list version `version`, numbered from `base`.
pub async fn insert_entries(
    conn: &mut PgConnection,
    version: i32,
    base: i32,
    chunk: &[ListEntry],
) -> Result<(), sqlx::Error> {
    let col = |f: &dyn Fn(&ListEntry) -> String| chunk.iter().map(f).collect::<Vec<String>>();
    sqlx::query!(
        "INSERT INTO screening_entries (list_version, entry_no, source, entity_number, type, programs, name, title, addresses, \
         federal_register_notice, start_date, end_date, alt_names, source_list_url) \
         SELECT $1, $2 + ord::int - 1, a, b, c, d, e, f, g, h, i, j, k, l FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]) WITH ORDINALITY AS t(a, b, c, d, e, f, g, h, i, j, k, l, ord)",
        version,
        base,
        col(&|e| e.source.clone()) as _,
        col(&|e| e.entity_number.clone()) as _,
        col(&|e| e.r#type.clone()) as _,
        col(&|e| e.programs.clone()) as _,
        col(&|e| e.name.clone()) as _,
        col(&|e| e.title.clone()) as _,
        col(&|e| e.addresses.clone()) as _,
        col(&|e| e.federal_register_notice.clone()) as _,
        col(&|e| e.start_date.clone()) as _,
        col(&|e| e.end_date.clone()) as _,
        col(&|e| e.alt_names.clone()) as _,
        col(&|e| e.source_list_url.clone()) as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The open cases (not rejected, closed or decided) with one of `parties` among their
/// parties: id and docket number.
pub async fn open_cases_of(conn: &mut PgConnection, parties: &[PartyId]) -> Result<Vec<(CaseId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT DISTINCT c.id AS "id: CaseId", c.docket_number FROM case_parties cp JOIN cases c ON c.id = cp.case_id WHERE cp.party_id = ANY($1)
         AND c.stage NOT IN ('rejected', 'closed_no_action', 'decided', 'monitoring', 'closed')"#,
        parties as _
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.docket_number))
    .collect())
}

/// The hits of a party (latest list versions first).
pub async fn hits_of_party(conn: &mut PgConnection, party: PartyId) -> Result<Vec<Hit>, sqlx::Error> {
    sqlx::query_as!(
        Hit,
        r#"SELECT h.id AS "id: HitId", h.party_id AS "party_id: PartyId", h.list_version, h.party_name, h.matched_name, h.score,
         h.status AS "status: HitStatus", h.reason, e.source, e.name AS entry_name, e.programs, e.federal_register_notice
         FROM screening_hits h JOIN screening_entries e ON e.list_version = h.list_version AND e.entry_no = h.entry_no
         WHERE h.party_id = $1 ORDER BY h.list_version DESC, h.score DESC"#,
        party.0
    )
    .fetch_all(conn)
    .await
}

/// The hits on a case's parties (latest list version only), for the case page and the
/// assessment form.
pub async fn hits_of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Hit>, sqlx::Error> {
    sqlx::query_as!(
        Hit,
        r#"SELECT h.id AS "id: HitId", h.party_id AS "party_id: PartyId", h.list_version, h.party_name, h.matched_name, h.score,
         h.status AS "status: HitStatus", h.reason, e.source, e.name AS entry_name, e.programs, e.federal_register_notice
         FROM screening_hits h JOIN screening_entries e ON e.list_version = h.list_version AND e.entry_no = h.entry_no
         WHERE h.party_id IN (SELECT party_id FROM case_parties WHERE case_id = $1)
         AND h.list_version = (SELECT max(version) FROM screening_lists) ORDER BY h.score DESC"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// A hit's party and status, the hit locked for the caller's transaction.
pub async fn lock_hit(conn: &mut PgConnection, hit: HitId) -> Result<Option<(PartyId, HitStatus)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT party_id AS "party_id: PartyId", status AS "status: HitStatus" FROM screening_hits WHERE id = $1 FOR UPDATE"#,
        hit.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.party_id, r.status)))
}

/// Records the decision on a hit: its new status, the reason, who decided and when.
pub async fn decide_hit(
    conn: &mut PgConnection,
    hit: HitId,
    status: HitStatus,
    reason: &str,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE screening_hits SET status = $2, reason = $3, decided_by = $4, decided_at = $5 WHERE id = $1",
        hit.0,
        status as _,
        reason,
        by.0,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The imported list versions, newest first.
pub async fn lists(conn: &mut PgConnection) -> Result<Vec<ListVersion>, sqlx::Error> {
    sqlx::query_as!(
        ListVersion,
        "SELECT version, source_file, entries, imported_at FROM screening_lists ORDER BY version DESC"
    )
    .fetch_all(conn)
    .await
}
