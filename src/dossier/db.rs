//! The SQL of the dossiers: the statement of each part (one jsonb column `j` a row, for
//! the one id a dossier is of), read into one JSON array each.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ids::{CaseId, MatterId, PartyId};

/// The parts of a case's dossier after the case itself, by name: each a statement of case `$1`.
const CASE_PARTS: [(&str, &str); 30] = [
    ("transactions", "SELECT to_jsonb(t) AS j FROM transactions t WHERE t.case_id = $1 ORDER BY t.created_at, t.id"),
    (
        "transaction_parties",
        "SELECT to_jsonb(tp) AS j FROM transaction_parties tp JOIN transactions t ON t.id = tp.transaction_id WHERE t.case_id = $1 ORDER BY tp.transaction_id, tp.party_id, tp.role",
    ),
    (
        "parties",
        "SELECT to_jsonb(p) || jsonb_build_object('case_role', cp.role, 'linked_at', cp.added_at) AS j FROM case_parties cp JOIN parties p ON p.id = cp.party_id WHERE cp.case_id = $1 ORDER BY cp.added_at, p.id, cp.role",
    ),
    (
        "party_owners",
        "WITH RECURSIVE chain AS (SELECT p.parent_id AS id FROM parties p JOIN case_parties cp ON cp.party_id = p.id WHERE cp.case_id = $1 AND p.parent_id IS NOT NULL UNION SELECT p.parent_id FROM parties p JOIN chain ON p.id = chain.id WHERE p.parent_id IS NOT NULL) SELECT to_jsonb(p) AS j FROM parties p WHERE p.id IN (SELECT id FROM chain) ORDER BY p.id",
    ),
    (
        "party_nexus_evidence",
        "SELECT to_jsonb(e) AS j FROM party_nexus_evidence e WHERE e.party_id IN (SELECT party_id FROM case_parties WHERE case_id = $1) ORDER BY e.recorded_at, e.id",
    ),
    (
        "screening_hits",
        "SELECT to_jsonb(h) || jsonb_build_object('listed_name', se.name, 'listed_source', se.source) AS j FROM screening_hits h LEFT JOIN screening_entries se ON se.list_version = h.list_version AND se.entry_no = h.entry_no WHERE h.party_id IN (SELECT party_id FROM case_parties WHERE case_id = $1) ORDER BY h.list_version, h.party_id, h.entry_no",
    ),
    (
        "screening_lists",
        "SELECT to_jsonb(l) AS j FROM screening_lists l WHERE l.version IN (SELECT list_version FROM screening_hits WHERE party_id IN (SELECT party_id FROM case_parties WHERE case_id = $1)) OR l.version IN (SELECT (a.screening_list_version) FROM assessments a WHERE a.case_id = $1) ORDER BY l.version",
    ),
    ("assessments", "SELECT to_jsonb(a) AS j FROM assessments a WHERE a.case_id = $1 ORDER BY a.created_at, a.id"),
    (
        "band_overrides",
        "SELECT to_jsonb(o) AS j FROM band_overrides o JOIN assessments a ON a.id = o.assessment_id WHERE a.case_id = $1 ORDER BY o.id",
    ),
    (
        "nexus_findings",
        "SELECT to_jsonb(n) AS j FROM nexus_findings n WHERE n.case_id = $1 ORDER BY n.created_at, n.id",
    ),
    (
        "determinations",
        "SELECT to_jsonb(d) || jsonb_build_object('signed_outside_the_system', d.outside_signer IS NOT NULL) AS j \
         FROM determinations d WHERE d.case_id = $1 ORDER BY d.created_at, d.id",
    ),
    (
        "determination_sendings",
        "SELECT to_jsonb(x) AS j FROM determination_sendings x JOIN determinations d ON d.id = x.determination_id WHERE d.case_id = $1 ORDER BY x.sent_on, x.recorded_at, x.id",
    ),
    (
        "determination_publications",
        "SELECT to_jsonb(x) AS j FROM determination_publications x JOIN determinations d ON d.id = x.determination_id WHERE d.case_id = $1 ORDER BY x.published_on",
    ),
    (
        "case_deviations",
        "SELECT to_jsonb(x) AS j FROM case_deviations x WHERE x.case_id = $1 ORDER BY x.decided_on, x.recorded_at",
    ),
    (
        "determination_revisions",
        "SELECT to_jsonb(r) AS j FROM determination_revisions r JOIN determinations d ON d.id = r.determination_id WHERE d.case_id = $1 ORDER BY r.determination_id, r.revision",
    ),
    (
        "determination_returns",
        "SELECT to_jsonb(r) AS j FROM determination_returns r JOIN determinations d ON d.id = r.determination_id WHERE d.case_id = $1 ORDER BY r.returned_at, r.id",
    ),
    (
        "determination_events",
        "SELECT to_jsonb(e) AS j FROM case_determination_events e WHERE e.case_id = $1 ORDER BY e.at, e.id",
    ),
    (
        "agency_notices",
        "SELECT to_jsonb(n) AS j FROM agency_notices n WHERE n.case_id = $1 ORDER BY n.step, n.sent_on, n.agency",
    ),
    ("services", "SELECT to_jsonb(s) AS j FROM case_services s WHERE s.case_id = $1 ORDER BY s.served_on, s.id"),
    (
        "submissions",
        "SELECT to_jsonb(s) AS j FROM case_submissions s WHERE s.case_id = $1 ORDER BY s.received_on, s.id",
    ),
    (
        "submission_documents",
        "SELECT to_jsonb(sd) AS j FROM submission_documents sd JOIN case_submissions s ON s.id = sd.submission_id WHERE s.case_id = $1 ORDER BY sd.submission_id, sd.document_id",
    ),
    (
        "mitigation_measures",
        "SELECT to_jsonb(m) AS j FROM mitigation_measures m WHERE m.case_id = $1 ORDER BY m.created_at, m.id",
    ),
    (
        "measure_status_changes",
        "SELECT to_jsonb(c) AS j FROM measure_status_changes c JOIN mitigation_measures m ON m.id = c.measure_id WHERE m.case_id = $1 ORDER BY c.at, c.id",
    ),
    (
        "compliance_checks",
        "SELECT to_jsonb(k) AS j FROM compliance_checks k JOIN mitigation_measures m ON m.id = k.measure_id WHERE m.case_id = $1 ORDER BY k.checked_on, k.id",
    ),
    ("documents", "SELECT to_jsonb(d) AS j FROM documents d WHERE d.case_id = $1 ORDER BY d.uploaded_at, d.id"),
    ("notes", "SELECT to_jsonb(n) AS j FROM case_notes n WHERE n.case_id = $1 ORDER BY n.created_at, n.id"),
    ("rfis", "SELECT to_jsonb(r) AS j FROM case_rfis r WHERE r.case_id = $1 ORDER BY r.asked_on, r.id"),
    ("extensions", "SELECT to_jsonb(x) AS j FROM case_extensions x WHERE x.case_id = $1 ORDER BY x.granted_at, x.id"),
    (
        "people",
        "SELECT jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role) AS j FROM users u WHERE u.id IN (SELECT actor_id FROM audit_events WHERE object_type = 'case' AND object_id = $1::text) ORDER BY u.id",
    ),
    (
        "case_parties",
        "SELECT to_jsonb(cp) AS j FROM case_parties cp WHERE cp.case_id = $1 ORDER BY cp.added_at, cp.party_id, cp.role",
    ),
];

/// The documents' content, in a case's dossier that includes it.
const DOCUMENT_CONTENTS: &str = "SELECT jsonb_build_object('document_id', c.document_id, 'content_base64', encode(c.content, 'base64')) AS j \
     FROM document_contents c JOIN documents d ON d.id = c.document_id WHERE d.case_id = $1 ORDER BY c.document_id";

/// The parts of a party's dossier, by name: each a statement of party `$1`.
const PARTY_PARTS: [(&str, &str); 20] = [
    ("party", "SELECT to_jsonb(p) AS j FROM parties p WHERE p.id = $1"),
    (
        "party_owners",
        "WITH RECURSIVE chain AS (SELECT p.parent_id AS id FROM parties p WHERE p.id = $1 AND p.parent_id IS NOT NULL UNION SELECT p.parent_id FROM parties p JOIN chain ON p.id = chain.id WHERE p.parent_id IS NOT NULL) SELECT to_jsonb(p) AS j FROM parties p WHERE p.id IN (SELECT id FROM chain) ORDER BY p.id",
    ),
    (
        "party_nexus_evidence",
        "SELECT to_jsonb(e) AS j FROM party_nexus_evidence e WHERE e.party_id = $1 ORDER BY e.recorded_at, e.id",
    ),
    (
        "screening_hits",
        "SELECT to_jsonb(h) || jsonb_build_object('listed_name', se.name, 'listed_source', se.source) AS j FROM screening_hits h LEFT JOIN screening_entries se ON se.list_version = h.list_version AND se.entry_no = h.entry_no WHERE h.party_id = $1 ORDER BY h.list_version, h.entry_no",
    ),
    (
        "cases",
        "SELECT jsonb_build_object('case_id', c.id, 'docket_number', c.docket_number, 'role', cp.role, 'linked_at', cp.added_at) AS j FROM case_parties cp JOIN cases c ON c.id = cp.case_id WHERE cp.party_id = $1 ORDER BY c.docket_number, cp.role",
    ),
    ("filer_roles", "SELECT to_jsonb(r) AS j FROM filer_roles r WHERE r.party_id = $1 ORDER BY r.role"),
    ("declarations", "SELECT to_jsonb(d) AS j FROM declarations d WHERE d.filer_id = $1 ORDER BY d.received_at, d.id"),
    (
        "declaration_history",
        "SELECT to_jsonb(h) AS j FROM declaration_history h JOIN declarations d ON d.id = h.declaration_id WHERE d.filer_id = $1 ORDER BY h.seq",
    ),
    (
        "declaration_questions",
        "SELECT to_jsonb(q) AS j FROM declaration_questions q JOIN declarations d ON d.id = q.declaration_id WHERE d.filer_id = $1 ORDER BY q.seq",
    ),
    (
        "enforcement_matters",
        "SELECT to_jsonb(m) AS j FROM enforcement_matters m WHERE m.party_id = $1 ORDER BY m.opened_at, m.id",
    ),
    (
        "enforcement_acts",
        "SELECT to_jsonb(a) AS j FROM enforcement_acts a JOIN enforcement_matters m ON m.id = a.matter_id WHERE m.party_id = $1 ORDER BY a.seq",
    ),
    (
        "authorization_applications",
        "SELECT to_jsonb(a) AS j FROM authorization_applications a WHERE a.applicant_id = $1 ORDER BY a.received_at, a.id",
    ),
    (
        "authorization_acts",
        "SELECT to_jsonb(x) AS j FROM authorization_acts x JOIN authorization_applications a ON a.id = x.application_id WHERE a.applicant_id = $1 ORDER BY x.seq",
    ),
    (
        "authorization_decisions",
        "SELECT to_jsonb(d) || jsonb_build_object('content_sha256', encode(d.content_sha256, 'hex')) AS j FROM authorization_decisions d JOIN authorization_applications a ON a.id = d.application_id WHERE a.applicant_id = $1 ORDER BY d.drafted_at, d.id",
    ),
    (
        "authorization_conditions",
        "SELECT to_jsonb(c) AS j FROM authorization_conditions c JOIN authorization_decisions d ON d.id = c.decision_id JOIN authorization_applications a ON a.id = d.application_id WHERE a.applicant_id = $1 ORDER BY d.drafted_at, d.id, c.seq",
    ),
    ("ga_reliances", "SELECT to_jsonb(r) AS j FROM ga_reliances r WHERE r.party_id = $1 ORDER BY r.recorded_at, r.id"),
    (
        "ga_reliance_acts",
        "SELECT to_jsonb(x) AS j FROM ga_reliance_acts x JOIN ga_reliances r ON r.id = x.reliance_id WHERE r.party_id = $1 ORDER BY x.seq",
    ),
    ("ga_suppliers", "SELECT to_jsonb(g) AS j FROM ga_suppliers g WHERE g.party_id = $1 ORDER BY g.recorded_at, g.id"),
    (
        "opinion_requests",
        "SELECT to_jsonb(o) || jsonb_build_object('content_sha256', encode(o.content_sha256, 'hex')) AS j FROM opinion_requests o WHERE o.requester_id = $1 ORDER BY o.received_at, o.id",
    ),
    (
        "opinion_acts",
        "SELECT to_jsonb(x) AS j FROM opinion_acts x JOIN opinion_requests o ON o.id = x.request_id WHERE o.requester_id = $1 ORDER BY x.seq",
    ),
];

/// The parts of an enforcement matter's dossier, by name: each a statement of matter `$1`.
const MATTER_PARTS: [(&str, &str); 5] = [
    ("enforcement_matter", "SELECT to_jsonb(m) AS j FROM enforcement_matters m WHERE m.id = $1"),
    ("enforcement_acts", "SELECT to_jsonb(a) AS j FROM enforcement_acts a WHERE a.matter_id = $1 ORDER BY a.seq"),
    ("party", "SELECT to_jsonb(p) AS j FROM parties p JOIN enforcement_matters m ON m.party_id = p.id WHERE m.id = $1"),
    (
        "declaration",
        "SELECT to_jsonb(d) AS j FROM declarations d JOIN enforcement_matters m ON m.declaration_id = d.id WHERE m.id = $1",
    ),
    (
        "case_reference",
        "SELECT jsonb_build_object('case_id', c.id, 'docket_number', c.docket_number) AS j FROM cases c JOIN enforcement_matters m ON m.case_id = c.id WHERE m.id = $1",
    ),
];

/// Rows of one part's statement as a JSON array (`sql` selects one jsonb column `j`).
async fn rows(conn: &mut PgConnection, sql: &str, id: Uuid) -> Result<Value, sqlx::Error> {
    // Each part's statement (a constant of this file) is wrapped in the same aggregate; the
    // parts' own statements are exercised by the dossier tests.
    #[expect(clippy::disallowed_methods, reason = "each part's statement (a constant) in one aggregate")]
    let v: Option<Value> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT coalesce(jsonb_agg(j), '[]'::jsonb) FROM ({sql}) q")))
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(v.unwrap_or_else(|| json!([])))
}

/// Each of `parts` of the one with `id`, by name, read in order.
async fn read_parts(
    conn: &mut PgConnection,
    parts: &[(&str, &str)],
    id: Uuid,
) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    let mut read = BTreeMap::new();
    for (name, sql) in parts {
        read.insert(name.to_string(), rows(&mut *conn, sql, id).await?);
    }
    Ok(read)
}

/// The case row as JSON (its search document left out), if there is one.
pub async fn case(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT to_jsonb(c) - 'search_doc' AS "v!" FROM cases c WHERE c.id = $1"#, case_id.0,)
        .fetch_optional(conn)
        .await
}

/// The parts of a case's dossier after the case itself ([`CASE_PARTS`]), and the
/// documents' content when `include_content`.
pub async fn case_parts(
    conn: &mut PgConnection,
    case_id: CaseId,
    include_content: bool,
) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    let mut parts = read_parts(&mut *conn, &CASE_PARTS, case_id.0).await?;
    if include_content {
        parts.insert("document_contents".into(), rows(conn, DOCUMENT_CONTENTS, case_id.0).await?);
    }
    Ok(parts)
}

/// The parts of a party's dossier ([`PARTY_PARTS`]).
pub async fn party_parts(conn: &mut PgConnection, party: PartyId) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    read_parts(conn, &PARTY_PARTS, party.0).await
}

/// The parts of an enforcement matter's dossier ([`MATTER_PARTS`]).
pub async fn matter_parts(conn: &mut PgConnection, matter: MatterId) -> Result<BTreeMap<String, Value>, sqlx::Error> {
    read_parts(conn, &MATTER_PARTS, matter.0).await
}

/// The users `ids`, each as its id, name and role, by id, in one JSON array.
pub async fn people(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Value, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name, 'role', u.role) ORDER BY u.id),
                   '[]'::jsonb) AS "j!"
           FROM users u WHERE u.id = ANY($1)"#,
        ids
    )
    .fetch_one(conn)
    .await
}
