//! Determination use cases: draft, revise, submit, return and sign. Each is one
//! transaction with its audit event (object: the case, so the case's timeline shows it).

use crate::ids::{CaseId, DeterminationId, DocumentId, UserId};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

pub use super::model::{DeterminationFilter, DeterminationSort, Listed, Listing};
use super::{Content, Determination, Kind, Status, validate};
use crate::access::Actor;
use crate::audit::{self, EventType, NewEvent};
use crate::cases::model::CaseRow;
use crate::cases::service::visible;
use crate::cases::workflow::{Change, Decision, Facts, Input, Stage};
use crate::error::{DomainError, FieldError};
use crate::notifications::{self, Note};

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
    let d = super::db::get(conn, id, lock).await?.ok_or(DomainError::NotFound)?;
    let c = visible(conn, user, d.case_id, false).await?;
    Ok((d, c))
}

/// Determinations on cases `user` may see (need-to-know applied in the query, as
/// [`CaseRow::visible_to`] does).
pub async fn list(conn: &mut PgConnection, user: &Actor, which: Listing) -> Result<Vec<Listed>, DomainError> {
    // Need-to-know in the query, as `CaseRow::visible_to` decides it one case at a time.
    let sees_restricted = user.may(crate::access::Action::SeeRestrictedCases);
    let ds = super::db::listed(conn, &which, user.id, sees_restricted).await?;
    let ids: Vec<CaseId> = ds.iter().map(|d| d.case_id).collect();
    let cases = super::db::dockets_and_titles(conn, &ids).await?;
    Ok(ds
        .into_iter()
        .map(|d| {
            let (docket_number, title) = cases.get(&d.case_id).cloned().unwrap_or_default();
            Listed { d, docket_number, title }
        })
        .collect())
}

/// One page of the determinations on cases `user` may see, in the filter's order, and how
/// many match (counted only when there is more than one page, up to
/// [`crate::db::Total::CAP`]).
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &DeterminationFilter,
) -> Result<(crate::db::Page<Listed>, crate::db::Total), DomainError> {
    let sees_restricted = user.may(crate::access::Action::SeeRestrictedCases);
    let keys = super::db::page_keys(conn, user.id, sees_restricted, f).await?;
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
    let ds = super::db::by_ids(conn, &wanted).await?;
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
        crate::db::Total::counted(super::db::count(conn, user.id, sees_restricted, f).await?)
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
    let docs = super::db::markings(conn, case_id, cited).await?;
    for id in cited {
        match docs.iter().find(|(d, _)| d == id) {
            None => e.push(FieldError::new("cited_documents", format!("{id} is not a document of this case"))),
            Some((_, marking)) if marking == "classified_reference" => e.push(FieldError::new(
                "cited_documents",
                "a classified-reference document can never be cited in a determination (it must be unclassified)",
            )),
            _ => {}
        }
    }
    let submissions = super::db::submission_kinds(conn, case_id).await?;
    for a in &content.submission_answers {
        if !submissions.iter().any(|(id, _)| *id == a.submission_id) {
            e.push(FieldError::new(
                "submission_answers",
                format!("{} is not a submission of this case", a.submission_id),
            ));
        }
    }
    if complete && matches!(kind, Kind::Final | Kind::Amendment) {
        let unanswered = submissions
            .iter()
            .filter(|(_, kind)| kind != "meeting_request")
            .filter(|(id, _)| !content.submission_answers.iter().any(|a| a.submission_id == *id))
            .count();
        if unanswered > 0 {
            e.push(FieldError::new(
                "submission_answers",
                format!("answer each party submission ({unanswered} not answered)"),
            ));
        }
    }
    let measures = super::db::measure_statuses(conn, case_id, &content.measures).await?;
    for id in &content.measures {
        match measures.iter().find(|(m, _)| m == id) {
            None => e.push(FieldError::new("measures", format!("{id} is not a mitigation measure of this case"))),
            Some((_, status)) if complete && outcome == "permitted_with_mitigation" && !status.is_in_force() => {
                e.push(FieldError::new("measures", "a final determination rests only on agreed measures"))
            }
            _ => {}
        }
    }
    Ok(e)
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
    let signed_final = super::db::last_signed_final(&mut tx, case_id).await?;
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
    if super::db::has_open_draft(&mut tx, case_id, kind).await? {
        return Err(DomainError::Conflict(format!(
            "this case already has an unsigned {} draft: revise that one",
            kind.label().to_lowercase()
        )));
    }
    let id = DeterminationId::new();
    let content = serde_json::to_value(&draft.content).expect("content serialises");
    let row = super::db::DraftRow {
        outcome: &draft.outcome,
        content: &content,
        cited_documents: &draft.cited_documents,
        unclassified_confirmed: draft.unclassified_confirmed,
        assessment_id: super::db::current_assessment(&mut tx, case_id).await?,
    };
    super::db::insert(&mut tx, id, case_id, (kind, supersedes), &row, (user.id, now)).await?;
    super::db::insert_revision(&mut tx, id, 1, &draft.outcome, &content, (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeterminationDrafted).object("case", case_id).changes(json!({
        "determination": id, "kind": kind.as_str(), "outcome": {"after": draft.outcome}, "revision": 1,
        "supersedes": supersedes, "on": on, "late_reason": drafted.late_reason(),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let (d, _) = get(&mut tx, user, id, false).await?;
    tx.commit().await?;
    Ok(d)
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
    let row = super::db::DraftRow {
        outcome: &draft.outcome,
        content: &content,
        cited_documents: &draft.cited_documents,
        unclassified_confirmed: draft.unclassified_confirmed,
        assessment_id: super::db::current_assessment(&mut tx, c.id).await?,
    };
    super::db::update_draft(&mut tx, id, (d.revision, next), &row, now).await?;
    super::db::insert_revision(&mut tx, id, next, &draft.outcome, &content, (user.id, now)).await?;
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
    super::db::set_submitted(&mut tx, id, now).await?;
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
    super::db::set_returned(&mut tx, id).await?;
    super::db::insert_return(&mut tx, id, d.revision, comment, (user.id, now)).await?;
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
    let signature = super::db::SignatureRow {
        signed_by: user.id,
        signed_at: now,
        reauth_at,
        content_sha256: &hash[..],
        signed_on: on,
        signer_title: &title,
        signer_authority: &authority,
    };
    if !super::db::sign(&mut tx, id, &signature).await? {
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
            super::db::set_initial_signed(&mut *tx, c.id, (user.id, now)).await?;
        }
        Kind::Final | Kind::Amendment => {
            let decision = Decision::parse(d.outcome.as_str()).expect("checked by the database");
            super::db::set_final_decision(&mut *tx, c.id, decision, (user.id, now)).await?;
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
    let outside = super::db::OutsideRow {
        signer: name,
        signer_title: title,
        signer_authority: authority,
        signed_on: on,
        signed_copy_id: copy.id,
        signed_copy_sha256: &copy_hash,
    };
    super::db::record_outside(&mut tx, id, &outside, (user.id, now)).await?;
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
    if !super::db::confirm_outside(&mut tx, id, (reauth_at, &hash[..]), (user.id, now)).await? {
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
    let sending =
        super::Sending { id: Uuid::now_v7(), recipient: recipient.to_string(), recipient_kind, method, sent_on: on };
    super::db::insert_sending(&mut tx, id, &sending, (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeterminationSent).object("case", c.id).changes(json!({
        "determination": id, "kind": d.kind().as_str(), "recipient": recipient, "recipient_kind": recipient_kind,
        "method": method, "sent_on": on, "late_reason": crate::dates::late_reason_of(s.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(sending)
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
    let publication = super::Publication { published_on: on, citation, document_number: number };
    super::db::insert_publication(&mut tx, id, &publication, (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeterminationPublished).object("case", c.id).changes(json!({
        "determination": id, "kind": d.kind().as_str(), "published_on": on, "citation": publication.citation,
        "document_number": publication.document_number, "late_reason": crate::dates::late_reason_of(p.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(publication)
}
