//! Advisory opinions' use cases (791.310): a request filed, checked for completeness,
//! questioned and supplemented (by the requester or a third party, until the opinion); an
//! opinion drafted, then signed and issued by a second supervisor after a fresh
//! re-authentication on the hash read; its public version. Each change is one transaction,
//! guarded by the request's version, with its audit event.

use serde::Deserialize;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db::{self, NewActRow, NewRow};
use super::model::{ActKind, ActRow, Contents, Item, NewOpinion, OpinionWork, PublicOpinion, Request, Status};
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::choice::Choice;
use crate::error::{DomainError, FieldError};
use crate::ids::{OpinionId, PartyId};

/// The most requests a party's page lists (the list pages through them all).
pub const PARTY_LIMIT: i64 = 500;

/// A request as filed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The requester, a party of the registry.
    pub requester_id: Option<PartyId>,
    /// The question(s) presented.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub question: String,
    /// The requester's direct financial interest in the question (791.310(a)).
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub interest: String,
    #[serde(default)]
    pub contents: Contents,
    /// The filing's date (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<time::Date>)]
    pub filed_on: Option<String>,
}

/// The act a user records on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = OpinionActRequested)]
pub enum Requested {
    Check,
    QuestionAsked,
    QuestionAnswered,
    Withdrawn,
}

/// A dated act on a request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOpinionAct)]
pub struct NewAct {
    #[schema(value_type = Requested)]
    pub kind: Choice<Requested>,
    #[serde(default)]
    #[schema(value_type = Option<time::Date>)]
    pub effective_on: Option<String>,
    /// The question, the answer, or why it was withdrawn.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// An answer: the `seq` of the question it answers.
    #[serde(default)]
    pub answers: Option<i64>,
    pub version: i64,
}

/// Material added until the opinion: the requester's (no `source`) or a third party's.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpinionMaterial)]
pub struct Material {
    /// Text added to the items it names (the requester's material only).
    #[serde(default)]
    pub contents: Contents,
    /// What the material is and where the office holds it.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// A third party's material: whose (791.310(d)); empty for the requester's own.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub source: String,
    pub version: i64,
}

/// A signature on the draft opinion.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpinionSignature)]
pub struct SignRequest {
    /// The content hash (hex) of the draft as the signer read it.
    #[schema(value_type = crate::determinations::Sha256Hex, inline)]
    pub content_sha256: String,
}

/// A request with what is missing, its history and the hash of its draft.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = OpinionView)]
pub struct View {
    pub request: Request,
    pub missing: Vec<Item>,
    pub acts: Vec<ActRow>,
    /// The hash (hex) a signature on the unsigned draft must name.
    pub draft_sha256: Option<String>,
}

fn require(user: &Actor, action: Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

fn text(field: &str, value: &str, what: &str, errors: &mut Vec<FieldError>) {
    if value.trim().is_empty() || crate::text::too_long(value.trim(), crate::text::TEXT) {
        errors.push(FieldError::new(field, format!("{what} (1 to 20,000 characters)")));
    }
}

/// Files a request with its "filed" act and audit event.
pub async fn file(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewRequest,
    via: &'static str,
) -> Result<Request, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    if n.requester_id.is_none() {
        errors.push(FieldError::new("requester_id", "choose the requester"));
    }
    text("question", &n.question, "state the question presented", &mut errors);
    text("interest", &n.interest, "state the requester's direct financial interest in it", &mut errors);
    let contents = n.contents.checked().map_err(|e| errors.extend(e)).ok();
    let filed_on = crate::dates::past_date("filed_on", n.filed_on.as_deref(), today, &mut errors);
    let (Some(requester), Some(contents), Some(filed_on), true) =
        (n.requester_id, contents, filed_on, errors.is_empty())
    else {
        return Err(DomainError::Invalid(errors));
    };
    let (question, interest) = (n.question.trim(), n.interest.trim());
    let mut tx = conn.begin().await?;
    crate::parties::get(&mut tx, requester)
        .await?
        .ok_or_else(|| DomainError::invalid("requester_id", "no such party"))?;
    let (id, number) = (OpinionId::new(), db::next_number(&mut tx, now.year()).await?);
    let row = NewRow { id, number: &number, requester, question, interest, contents: &contents, filed_on, via };
    db::insert(&mut tx, &row, (user.id, now)).await?;
    let act = NewActRow {
        kind: ActKind::Filed,
        effective_on: filed_on,
        items: &[],
        note: question,
        source: "",
        answers: None,
    };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    let event = NewEvent::new(EventType::OpinionRequested).object("opinion_request", id).changes(json!({
        "number": number, "requester": requester, "question": question, "interest": interest, "contents": contents,
        "filed_on": filed_on, "via": via,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let r = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

async fn locked(tx: &mut PgConnection, id: OpinionId, version: i64) -> Result<Request, DomainError> {
    let r = db::lock(tx, id).await?.ok_or(DomainError::NotFound)?;
    if r.version != version {
        return Err(DomainError::changed_since(&r.number, Some(r.status.label())));
    }
    Ok(r)
}

fn conflict(r: &Request, why: &str) -> DomainError {
    DomainError::Conflict(format!("{} is {}: {why}", r.number, r.status.label().to_lowercase()))
}

/// Records a dated act: the completeness check (returning an incomplete request naming the
/// missing items), a question, its answer, or the request withdrawn.
pub async fn record_act(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: OpinionId,
    n: &NewAct,
) -> Result<Request, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let note = n.note.trim();
    let mut errors = Vec::new();
    let kind = n.kind.or_error("kind", "must be check, question_asked, question_answered or withdrawn", &mut errors);
    if crate::text::too_long(note, crate::text::TEXT) {
        errors.push(FieldError::new("note", crate::text::at_most(crate::text::TEXT)));
    }
    let mut tx = conn.begin().await?;
    let r = locked(&mut tx, id, n.version).await?;
    let on = crate::filings::act_date(n.effective_on.as_deref(), today, r.last_act_on, &mut errors);
    let (mut status, mut complete_on) = (r.status, r.complete_on);
    let mut items = Vec::new();
    let act = match kind {
        Some(Requested::Check) => {
            if !r.status.awaits_check() {
                return Err(conflict(&r, "it was found complete already"));
            }
            items = r.contents.missing();
            if items.is_empty() {
                (status, complete_on) = (Status::UnderReview, on);
                ActKind::FoundComplete
            } else {
                status = Status::Incomplete;
                ActKind::ReturnedIncomplete
            }
        }
        Some(Requested::QuestionAsked) => {
            if !r.status.in_review() {
                return Err(conflict(&r, "questions are asked of a request under review"));
            }
            if note.is_empty() {
                errors.push(FieldError::new("note", "write the question"));
            }
            status = Status::QuestionsAsked;
            ActKind::QuestionAsked
        }
        Some(Requested::QuestionAnswered) => {
            let open: Vec<i64> =
                super::model::open_questions(&db::acts(&mut tx, id).await?).into_iter().map(|(seq, _)| seq).collect();
            crate::filings::check_answer(&open, n.answers, "this request", note, &mut errors);
            if open.len() == 1 {
                status = Status::UnderReview;
            }
            ActKind::QuestionAnswered
        }
        Some(Requested::Withdrawn) => {
            if !r.status.takes_material() {
                return Err(conflict(&r, "it can no longer be withdrawn"));
            }
            status = Status::Withdrawn;
            ActKind::Withdrawn
        }
        None => ActKind::Filed,
    };
    let (Some(on), true) = (on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let answers = if act == ActKind::QuestionAnswered { n.answers } else { None };
    let row = NewActRow { kind: act, effective_on: on, items: &items, note, source: "", answers };
    db::insert_act(&mut tx, id, &row, (user.id, now)).await?;
    if !db::set_standing(&mut tx, id, r.version, (status, complete_on, on), &r.contents, now).await? {
        return Err(DomainError::changed_meanwhile(&r.number));
    }
    let names: Vec<&str> = items.iter().map(|i| i.as_str()).collect();
    let event = NewEvent::new(EventType::OpinionActRecorded).object("opinion_request", id).changes(json!({
        "number": r.number, "act": act, "effective_on": on, "note": note, "items": names, "answers": answers,
        "status": {"before": r.status, "after": status},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let r = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

/// Adds material until the opinion: the requester's (supplementing the items it names) or a
/// third party's (791.310(d): who sent it, and what it is).
pub async fn add_material(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: OpinionId,
    m: &Material,
) -> Result<Request, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let added = m.contents.checked().map_err(DomainError::Invalid)?;
    let (note, source) = (m.note.trim(), m.source.trim());
    let mut errors = Vec::new();
    if crate::text::too_long(note, crate::text::TEXT) {
        errors.push(FieldError::new("note", crate::text::at_most(crate::text::TEXT)));
    }
    if crate::text::too_long(source, crate::text::NAME) {
        errors.push(FieldError::new("source", crate::text::at_most(crate::text::NAME)));
    }
    let third_party = !source.is_empty();
    if third_party && added != Contents::default() {
        errors.push(FieldError::new("contents", "a third party's material is noted, not added to the request's items"));
    }
    if third_party && note.is_empty() {
        errors.push(FieldError::new("note", "say what the third party's material is"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let r = locked(&mut tx, id, m.version).await?;
    if !r.status.takes_material() {
        return Err(conflict(&r, "material is taken until the opinion"));
    }
    let (contents, touched) = r.contents.supplement(&added, note)?;
    let on = today.max(r.last_act_on);
    let kind = if third_party { ActKind::ThirdPartyMaterial } else { ActKind::MaterialAdded };
    let row = NewActRow { kind, effective_on: on, items: &touched, note, source, answers: None };
    db::insert_act(&mut tx, id, &row, (user.id, now)).await?;
    if !db::set_standing(&mut tx, id, r.version, (r.status, r.complete_on, on), &contents, now).await? {
        return Err(DomainError::changed_meanwhile(&r.number));
    }
    let names: Vec<&str> = touched.iter().map(|i| i.as_str()).collect();
    let event = NewEvent::new(EventType::OpinionActRecorded).object("opinion_request", id).changes(json!({
        "number": r.number, "act": kind, "effective_on": on, "note": note, "source": source, "items": names,
        "added": added,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let r = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

/// Drafts (or redrafts) the opinion on a complete request under review with no question
/// open; supervisors are told it awaits a second supervisor's signature.
pub async fn draft(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: OpinionId,
    d: &NewOpinion,
    mail: bool,
) -> Result<Request, DomainError> {
    require(user, Action::WorkFilings)?;
    let mut errors = Vec::new();
    let conclusion = d.conclusion.or_error("conclusion", "must be prohibited or not_prohibited", &mut errors);
    let opinion = d.opinion.trim();
    if opinion.is_empty() || crate::text::too_long(opinion, crate::text::LONG) {
        errors.push(FieldError::new("opinion", "write the opinion (1 to 50,000 characters)"));
    }
    let Some(conclusion) = conclusion.filter(|_| errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let r = locked(&mut tx, id, d.version).await?;
    if r.status != Status::UnderReview {
        return Err(conflict(&r, "an opinion is drafted on a complete request under review with no question open"));
    }
    let on = crate::dates::today(now).max(r.last_act_on);
    if !db::set_draft(&mut tx, id, r.version, (conclusion, opinion, on), (user.id, now)).await? {
        return Err(DomainError::changed_meanwhile(&r.number));
    }
    let row = NewActRow {
        kind: ActKind::OpinionDrafted,
        effective_on: on,
        items: &[],
        note: conclusion.label(),
        source: "",
        answers: None,
    };
    db::insert_act(&mut tx, id, &row, (user.id, now)).await?;
    let event = NewEvent::new(EventType::OpinionDrafted).object("opinion_request", id).changes(json!({
        "number": r.number, "conclusion": conclusion, "opinion": opinion, "revision": r.revision + 1,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message = format!("{}: an advisory opinion awaits a second supervisor's signature", r.number);
    let link = format!("/opinions/{id}");
    let note = crate::notifications::Note::about(crate::notifications::Kind::AwaitingSignature, &message, &link);
    crate::notifications::notify_supervisors(&mut tx, now, mail, Some(user.id), &note).await?;
    let r = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

/// The hash (hex) of `r`'s unsigned draft, if it has one.
pub fn draft_hash(r: &Request) -> Option<String> {
    (r.drafted_by.is_some() && r.content_sha256.is_none()).then(|| hex::encode(super::model::content_hash(r)))
}

/// Why `user` may not sign `r`'s draft now, in words; `None` when they may.
pub fn why_not_signable(user: &Actor, r: &Request) -> Option<String> {
    let drafter = r.drafted_by?;
    match crate::access::policy::four_eyes(user.role, user.id, drafter, Action::SignAuthorizations) {
        Err(refused) => Some(refused.refusal("an opinion")),
        Ok(()) if r.status != Status::UnderReview => {
            Some(format!("{} is {}: it is not awaiting its opinion", r.number, r.status.label().to_lowercase()))
        }
        Ok(()) => None,
    }
}

/// Signs and issues the draft opinion: a supervisor who did not draft it, after a fresh
/// re-authentication, on the hash they read.
pub async fn sign(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: OpinionId,
    req: &SignRequest,
    mail: bool,
) -> Result<Request, DomainError> {
    require(user, Action::SignAuthorizations)?;
    user.require_recent_reauth(now)?;
    let mut tx = conn.begin().await?;
    let r = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let Some(hash) = draft_hash(&r) else {
        return Err(DomainError::Conflict(format!("{} has no draft opinion to sign", r.number)));
    };
    if let Some(why) = why_not_signable(user, &r) {
        return Err(if r.drafted_by == Some(user.id) { DomainError::Forbidden } else { DomainError::Conflict(why) });
    }
    if !req.content_sha256.trim().eq_ignore_ascii_case(&hash) {
        return Err(DomainError::Conflict(
            "the draft changed after you read it (its content hash differs): read it again before you sign".into(),
        ));
    }
    let raw = super::model::content_hash(&r);
    let on = crate::dates::today(now).max(r.last_act_on);
    let reauth_at = user.reauth_at.expect("checked above");
    if !db::sign(&mut tx, id, r.revision, &raw, (user.id, now, reauth_at, on)).await? {
        return Err(DomainError::Conflict("this opinion changed or was signed meanwhile: look at it again".into()));
    }
    let conclusion = r.conclusion.map(|c| c.label()).unwrap_or_default();
    let row = NewActRow {
        kind: ActKind::OpinionIssued,
        effective_on: on,
        items: &[],
        note: conclusion,
        source: "",
        answers: None,
    };
    db::insert_act(&mut tx, id, &row, (user.id, now)).await?;
    let event = NewEvent::new(EventType::OpinionIssued).object("opinion_request", id).changes(json!({
        "number": r.number, "conclusion": r.conclusion, "revision": r.revision, "content_sha256": hash,
        "reauth_at": reauth_at, "drafted_by": r.drafted_by, "signed_on": on,
        "status": {"before": r.status, "after": Status::Issued},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    if let Some(drafter) = r.drafted_by {
        let message = format!("{}: your advisory opinion was signed by {} and issued", r.number, user.name);
        let link = format!("/opinions/{id}");
        let note = crate::notifications::Note::about(crate::notifications::Kind::Signed, &message, &link);
        crate::notifications::notify(&mut tx, now, mail, drafter, &note).await?;
    }
    let r = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(r)
}

/// A request with its history, for a reader of filings.
pub async fn get(conn: &mut PgConnection, user: &Actor, id: OpinionId) -> Result<View, DomainError> {
    require(user, Action::ViewFilings)?;
    let request = db::get(&mut *conn, id).await?.ok_or(DomainError::NotFound)?;
    let acts = db::acts(conn, id).await?;
    Ok(View { missing: request.contents.missing(), draft_sha256: draft_hash(&request), request, acts })
}

/// The public version of an issued opinion, each confidential span redacted.
pub async fn public(conn: &mut PgConnection, user: &Actor, id: OpinionId) -> Result<PublicOpinion, DomainError> {
    require(user, Action::ViewFilings)?;
    let r = db::get(conn, id).await?.ok_or(DomainError::NotFound)?;
    let (Some(conclusion), Some(issued_on), Status::Issued) = (r.conclusion, r.signed_on, r.status) else {
        return Err(DomainError::Conflict(format!("{} has no issued opinion yet", r.number)));
    };
    let redact = |t: &str| crate::determinations::document::redact(t, true);
    Ok(PublicOpinion {
        number: r.number,
        requester_name: r.requester_name,
        question: redact(&r.question),
        conclusion,
        text: redact(&r.opinion),
        issued_on,
        binds: super::model::BINDS,
    })
}

/// A page of the request list as `f` asks.
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &db::Filter,
) -> Result<crate::db::Page<Request>, DomainError> {
    require(user, Action::ViewFilings)?;
    let rows = db::page(conn, f).await?;
    Ok(f.page.page(rows, |r: &Request| (r.received_at, r.id.0)))
}

/// How many requests match `f`.
pub async fn count(conn: &mut PgConnection, user: &Actor, f: &db::Filter) -> Result<crate::db::Total, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::count(conn, f).await?)
}

/// A party's requests, newest first (none for a reader who sees no filings).
pub async fn of_party(conn: &mut PgConnection, user: &Actor, party: PartyId) -> Result<Vec<Request>, DomainError> {
    if !user.may(Action::ViewFilings) {
        return Ok(Vec::new());
    }
    Ok(db::of_requester(conn, party, PARTY_LIMIT).await?)
}

/// The requests whose number, requester or question holds `q`, newest first: at most `limit`.
pub async fn search(conn: &mut PgConnection, user: &Actor, q: &str, limit: i64) -> Result<Vec<Request>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::search(conn, q, limit).await?)
}

/// The requests' work for a home page: none for a role that does not work filings.
pub async fn work(conn: &mut PgConnection, user: &Actor) -> Result<Option<OpinionWork>, DomainError> {
    if !user.may(Action::WorkFilings) {
        return Ok(None);
    }
    Ok(Some(db::work(conn).await?))
}

/// The status filter as typed, or the error naming it.
pub fn status_named(typed: Option<&str>) -> Result<Option<Status>, FieldError> {
    match typed.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => Choice::<Status>::named(t).or_invalid("status", "must be one of the statuses listed").map(Some),
    }
}
