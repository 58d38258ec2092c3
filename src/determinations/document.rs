//! The determination document: a printable page laid out like a published final
//! determination (title with case number and party, authority, the questions, the finding,
//! background with the procedural history drawn from the case's events, risk analysis,
//! the prohibited transactions with their dates, cessation, penalties), with markings at
//! top and bottom. The Federal Register form leaves out every section and document marked
//! as confidential business information. Print it, or save it as PDF from the browser.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{Content, Determination, Kind, outcome_label, service};
use crate::app::AppState;
use crate::audit::StoredEvent;
use crate::cases::model::CaseRow;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppPath, AppQuery};
use crate::web::layout::render;

/// The authority every determination rests on.
pub const AUTHORITY: &str = "Executive Order 13873 of May 15, 2019, Securing the Information and Communications Technology and Services Supply Chain (84 FR 22689); the International Emergency Economic Powers Act (50 U.S.C. 1701 et seq.); and 15 CFR part 791, subpart B (formerly 15 CFR part 7).";

/// One dated line of the procedural history.
pub struct HistoryLine {
    /// Date (YYYY-MM-DD).
    pub on: String,
    /// What happened.
    pub what: String,
}

/// The procedural history of a case from its audit events (what a published
/// determination recounts: referral, acceptance, notices, service, submissions,
/// extensions, circulation, signatures).
pub fn history(c: &CaseRow, events: &[StoredEvent], agency_name: &dyn Fn(&str) -> String) -> Vec<HistoryLine> {
    let mut out = Vec::new();
    if let (Some(on), Some(a)) = (c.referral_date, &c.referring_agency) {
        out.push(HistoryLine {
            on: on.to_string(),
            what: format!("{} referred the matter to the office.", agency_name(a)),
        });
    }
    let day = |e: &StoredEvent| e.at.date().to_string();
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    for e in events {
        let ch = &e.changes;
        let line = match e.event_type.as_str() {
            "case.created" if c.referral_date.is_none() => Some("The review was opened.".to_string()),
            "case.transition" => match ch.get("action").and_then(|a| a.as_str()).unwrap_or("") {
                "accept" => Some(format!("The office accepted the matter for review ({}).", s(ch, "rule_version"))),
                "notify_agencies" => {
                    Some("The office notified the appropriate agency heads (first interagency step).".into())
                }
                "serve_initial_determination" => {
                    let on = s(ch, "served_on");
                    out.push(HistoryLine {
                        on: if on.is_empty() { day(e) } else { on },
                        what: format!(
                            "The initial determination was served on the parties ({}).",
                            s(ch, "method").replace('_', " ")
                        ),
                    });
                    None
                }
                "circulate_final_determination" => {
                    Some("The proposed final determination was circulated to the agencies for concurrence.".into())
                }
                "proceed_without_response" => Some(
                    "The parties did not respond within 30 days; the review proceeded to the final determination."
                        .into(),
                ),
                "issue_final_determination" => Some("The final determination was issued.".into()),
                "breach_recorded" => {
                    Some("A breach of a mitigation measure reopened the determination for review.".into())
                }
                _ => None,
            },
            "submission.received" => {
                let on = s(ch, "received_on");
                let what = match s(ch, "kind").as_str() {
                    "written_response" => "The parties responded in writing.",
                    "mitigation_proposal" => "The parties proposed mitigation measures.",
                    "meeting_request" => "The parties requested a meeting.",
                    _ => "The parties made a submission.",
                };
                out.push(HistoryLine { on: if on.is_empty() { day(e) } else { on }, what: what.into() });
                None
            }
            "case.clock_extended" => Some(format!(
                "The time for the final determination was extended by {} days in writing.",
                ch.get("days").and_then(|d| d.as_i64()).unwrap_or(0)
            )),
            "determination.signed" => {
                let kind = Kind::parse(&s(ch, "kind")).map(|k| k.label()).unwrap_or("A determination");
                Some(format!("{kind} signed ({}).", outcome_label(&s(ch, "outcome")).to_lowercase()))
            }
            _ => None,
        };
        if let Some(what) = line {
            out.push(HistoryLine { on: day(e), what });
        }
    }
    out.sort_by(|a, b| a.on.cmp(&b.on));
    out
}

/// The finding a determination states.
pub fn finding(kind: Kind, outcome: &str, party: &str) -> String {
    match (kind, outcome) {
        (Kind::Initial, "prohibition") => format!(
            "The office has initially determined that the ICTS transactions involving {party} described below pose an undue or unacceptable risk, and proposes that they be prohibited."
        ),
        (Kind::Initial, _) => format!(
            "The office has initially determined that the ICTS transactions involving {party} described below pose an undue or unacceptable risk, and proposes measures to mitigate that risk."
        ),
        (_, "prohibited") => format!(
            "The ICTS transactions involving {party} described below pose an undue or unacceptable risk and are prohibited."
        ),
        (_, "not_prohibited") => format!(
            "The ICTS transactions involving {party} described below do not pose an undue or unacceptable risk and are not prohibited."
        ),
        (_, "permitted_with_mitigation") => format!(
            "The ICTS transactions involving {party} described below are permitted, subject to the mitigation measures set out in this determination, as the least restrictive means of addressing the risk."
        ),
        (_, _) => "The final determination identified below is revoked.".to_string(),
    }
}

/// `?form=federal-register` for the publication form.
#[derive(Debug, Deserialize)]
pub struct FormQuery {
    form: Option<String>,
}

#[derive(Template)]
#[template(path = "determinations/document.html")]
struct DocumentPage {
    d: Determination,
    content: Content,
    c: CaseRow,
    publication: bool,
    marking: String,
    draft: bool,
    finding: String,
    history: Vec<HistoryLine>,
    assessment: String,
    answers: Vec<(String, String, String)>,
    measures: Vec<(String, String, String, String)>,
    documents: Vec<(String, String, String)>,
    signature: String,
    hash: String,
    authority: &'static str,
    kind_label: &'static str,
}

impl DocumentPage {
    fn shown(&self, section: &str) -> bool {
        !(self.publication && self.content.cbi_sections.iter().any(|s| s == section))
    }
}

/// `GET /determinations/{id}/document`.
pub async fn page(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<FormQuery>,
) -> Result<Response, AppError> {
    let publication = match q.form.as_deref() {
        None | Some("") | Some("internal") => false,
        Some("federal-register") => true,
        Some(_) => return Err(AppError::invalid("form", "must be internal or federal-register")),
    };
    let mut conn = state.db.acquire().await?;
    let (d, c) = service::get(&mut conn, &user, id, false).await?;
    crate::cases::service::audit_read(&mut *state.conn().await?, &user, state.now(), &c, "determination document")
        .await?;
    let content = d.typed();
    let events: Vec<StoredEvent> =
        sqlx::query_as("SELECT * FROM audit_events WHERE object_type = 'case' AND object_id = $1 ORDER BY seq")
            .bind(c.id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    let agencies: Vec<(String, String)> =
        sqlx::query_as("SELECT code, name FROM ref_agencies").fetch_all(&mut *conn).await?;
    let agency_name =
        |code: &str| agencies.iter().find(|a| a.0 == code).map(|a| a.1.clone()).unwrap_or_else(|| code.into());
    let history = history(&c, &events, &agency_name);
    let assessment: Option<(f64, String, i32)> = match d.assessment_id {
        Some(a) => {
            sqlx::query_as("SELECT composite::float8, band::text, rubric_version FROM assessments WHERE id = $1")
                .bind(a)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    let submissions = crate::cases::proceedings::submissions(&mut conn, c.id).await?;
    let answers = content
        .submission_answers
        .iter()
        .filter_map(|a| {
            submissions
                .iter()
                .find(|s| s.id == a.submission_id)
                .map(|s| (s.received_on.to_string(), s.kind.replace('_', " "), a.answer.clone()))
        })
        .collect();
    let all_measures = crate::mitigation::measures(&mut conn, c.id).await?;
    let kinds = crate::mitigation::kinds(&mut conn).await?;
    let measures = all_measures
        .iter()
        .filter(|m| content.measures.contains(&m.id))
        .map(|m| {
            (
                kinds.iter().find(|k| k.code == m.kind).map(|k| k.name.clone()).unwrap_or_default(),
                m.description.clone(),
                m.owner.clone(),
                m.due_on.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let docs = crate::documents::of_case(&mut conn, c.id).await?;
    let cited: Vec<&crate::documents::Document> = docs.iter().filter(|x| d.cited_documents.contains(&x.id)).collect();
    let has_cbi_doc = cited.iter().any(|x| x.marking == "cbi");
    let has_cui_doc = cited.iter().any(|x| x.marking == "cui");
    let documents = cited
        .iter()
        .filter(|x| !(publication && matches!(x.marking.as_str(), "cbi" | "cui")))
        .map(|x| (x.title.clone(), x.marking_label().to_string(), x.sha256_hex()))
        .collect();
    drop(conn);
    let marking = if publication {
        "UNCLASSIFIED — FOR PUBLICATION (CONFIDENTIAL BUSINESS INFORMATION REMOVED)".to_string()
    } else if !content.cbi_sections.is_empty() || has_cbi_doc {
        "CONTROLLED UNCLASSIFIED INFORMATION — CONTAINS CONFIDENTIAL BUSINESS INFORMATION".to_string()
    } else if has_cui_doc {
        "CONTROLLED UNCLASSIFIED INFORMATION".to_string()
    } else {
        "UNCLASSIFIED".to_string()
    };
    let signature = match (&d.signed_by_name, d.signed_at) {
        (Some(n), Some(at)) => format!("Signed by {n}, {}", at.date()),
        _ => "Not signed".to_string(),
    };
    render(&DocumentPage {
        publication,
        marking,
        draft: d.status != crate::determinations::Status::Signed,
        finding: finding(d.kind(), &d.outcome, &content.party),
        history,
        assessment: assessment
            .map(|(score, band, v)| format!("The office's risk assessment (rubric version {v}) found a composite risk of {score:.2} out of 100 ({band})."))
            .unwrap_or_default(),
        answers,
        measures,
        documents,
        signature,
        hash: d.content_sha256.as_deref().map(hex::encode).unwrap_or_default(),
        authority: AUTHORITY,
        kind_label: d.kind().label(),
        content,
        d,
        c,
    })
}
