//! Party pages: the registry with search and a form to register a party; a party's page
//! with its ownership chain, nexus evidence and cases; and the case-page forms that link
//! parties, record transactions and consolidate cases.

use crate::ids::{CaseId, HitId, PartyId};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::parse_decision;
use super::screening_service::{self, ListVersion};
use super::{
    CaseLink, ChainLink, Evidence, NexusCriterion, Party, PartyFilter, PartyInput, PartyKind, PartyRole, PartySort,
};
use crate::app::AppState;
use crate::cases::reference::Reference;
use crate::choice::Choice;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppMultipart, AppPath, AppQuery, FormBody};
use crate::web::flash::Flash;
use crate::web::layout::show_time;
use crate::web::layout::{FormErrors, Layout, Pager, answer_form, render, render_as};
use crate::web::list::ListQuery;

#[derive(Template)]
#[template(path = "parties/list.html")]
struct ListPage {
    layout: Layout,
    q: PartyQuery,
    parties: Vec<Party>,
    /// How many parties match, in words.
    total: String,
    pager: Pager,
    form: PartyInput,
    errors: FormErrors,
    /// The list's own refusals (search, order, page), apart from the registration form's.
    list_errors: FormErrors,
    kinds: [PartyKind; 3],
    can_work: bool,
    csrf_token: String,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// The party list's search, order and page: `?q=&sort=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PartyQuery {
    q: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    before: Option<String>,
}

impl PartyQuery {
    /// The filter, naming every bad parameter.
    fn to_filter(&self) -> Result<PartyFilter, Vec<FieldError>> {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = Vec::new();
        let q = some(&self.q).map(|q| q.chars().take(200).collect::<String>());
        let sort = match some(&self.sort) {
            None => PartySort::Name,
            Some(s) => PartySort::parse(&s).unwrap_or_else(|| {
                errors.push(FieldError::new("sort", "must be one of name, name_desc, country"));
                PartySort::Name
            }),
        };
        let limit = crate::db::page_size(some(&self.limit).as_deref(), &mut errors);
        let valid = |c: &str| crate::db::parse_cursor(c).filter(|(k, _)| k.chars().count() <= 400);
        let (after, backwards) =
            crate::db::keyset_args(some(&self.cursor).as_deref(), some(&self.before).as_deref(), valid, &mut errors);
        let f = PartyFilter { q, sort, after, backwards, limit };
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }
}

crate::list_query! {
    PartyQuery => "/parties";
    sorts ["name", "name_desc", "country"] descending ["name_desc"];
    params q, sort, limit, cursor, before
}

async fn list_page(
    state: &AppState,
    user: &SignedIn,
    q: PartyQuery,
    form: PartyInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (parties, next, prev, total, list_errors) = match q.to_filter() {
        Ok(f) => {
            let page = super::page(&mut conn, &f).await?;
            // The total only costs a count when there is more than this page.
            let total = if page.next.is_none() && page.prev.is_none() && f.after.is_none() {
                crate::db::Total::Exact(page.rows.len() as i64)
            } else {
                super::count(&mut conn, &f).await?
            };
            (page.rows, page.next, page.prev, total.describe("party", "parties"), Vec::new())
        }
        Err(e) => (Vec::new(), None, None, String::new(), e),
    };
    let pager = q.pager(next, prev);
    render(&ListPage {
        layout: Layout::for_user(&state.web, "/parties", Some(user)),
        q,
        parties,
        total,
        pager,
        form,
        errors: FormErrors(errors),
        list_errors: FormErrors(list_errors),
        kinds: PartyKind::ALL,
        can_work: user.may(crate::access::Action::WorkCases),
        csrf_token: user.csrf_token.clone(),
    })
}

/// `GET /parties`: the registry, searched, sorted and paged.
pub async fn list(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<PartyQuery>,
) -> Result<Response, AppError> {
    list_page(&state, &user, q, PartyInput { kind: PartyKind::Company.into(), ..PartyInput::default() }, Vec::new())
        .await
}

/// The party form.
#[derive(Debug, Deserialize)]
pub struct PartyForm {
    legal_name: String,
    #[serde(default)]
    aliases: String,
    kind: String,
    country: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    ownership_pct: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    version: Option<i32>,
}

impl PartyForm {
    fn to_input(&self) -> Result<PartyInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let parent_id = match self.parent_id.trim() {
            "" => None,
            s => s.parse::<PartyId>().map(Some).unwrap_or_else(|_| {
                errors.push(FieldError::new("parent_id", "choose a parent from the list"));
                None
            }),
        };
        let ownership_pct = match self.ownership_pct.trim() {
            "" => None,
            s => s.trim_end_matches('%').parse::<f64>().map(Some).unwrap_or_else(|_| {
                errors.push(FieldError::new("ownership_pct", "must be a number of percent"));
                None
            }),
        };
        let input = PartyInput {
            legal_name: self.legal_name.clone(),
            aliases: self
                .aliases
                .split([';', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            kind: Choice::named(self.kind.trim()),
            country: self.country.clone(),
            parent_id,
            ownership_pct,
            notes: self.notes.clone(),
            version: self.version,
        };
        if errors.is_empty() { Ok(input) } else { Err(errors) }
    }

    fn echo(&self) -> PartyInput {
        PartyInput {
            legal_name: self.legal_name.clone(),
            aliases: vec![self.aliases.clone()],
            kind: Choice::named(self.kind.trim()),
            country: self.country.clone(),
            notes: self.notes.clone(),
            ..PartyInput::default()
        }
    }
}

/// `POST /parties`.
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppForm(f): AppForm<PartyForm>,
) -> Result<Response, AppError> {
    let result = match f.to_input() {
        Ok(input) => match input.parse() {
            Ok(valid) => super::create(&mut *state.conn().await?, &user, state.now(), &state.screening, valid)
                .await
                .map_err(AppError::from),
            Err(e) => Err(AppError::Invalid(e)),
        },
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/parties/{}", p.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let mut r = list_page(&state, &user, PartyQuery::default(), f.echo(), errors).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "parties/show.html")]
struct ShowPage {
    layout: Layout,
    party: Party,
    chain: Vec<ChainLink>,
    evidence: Vec<(Evidence, String)>,
    cases: Vec<CaseLink>,
    reference: Reference,
    criteria: [NexusCriterion; 5],
    kinds: [PartyKind; 3],
    others: Vec<Party>,
    can_work: bool,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    hits: Vec<super::screening_service::Hit>,
    /// Its filer roles and declarations (the second docket).
    filer_roles: Vec<crate::declarations::model::FilerRoleRow>,
    declarations: Vec<crate::declarations::Declaration>,
    filer_role_choices: [crate::declarations::FilerRole; 2],
    /// Its enforcement matters (both dockets), and whether the reader may open one.
    matters: Vec<crate::enforcement::model::Matter>,
    can_open_matter: bool,
    /// Its specific authorization applications, and whether the reader may file one.
    applications: Vec<crate::authorizations::model::Application>,
    can_file_application: bool,
    /// Its reliances on general authorizations, with their standing today.
    reliances: Vec<crate::general_authorizations::model::Reliance>,
    /// Its requests for advisory opinions.
    opinions: Vec<crate::opinions::model::Request>,
    /// Whether the reader may export the party's dossier.
    can_export: bool,
}

/// Renders the page with a message: a form's refusal, or the flash of one that succeeded
/// (none for a plain read).
pub(crate) async fn show_page(
    state: &AppState,
    user: &SignedIn,
    id: PartyId,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let party = super::get(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    let chain = super::ownership_chain(&mut conn, id).await?;
    let evidence = super::evidence(&mut conn, id)
        .await?
        .into_iter()
        .map(|e| {
            let at = show_time(e.recorded_at, &user.zone);
            (e, at)
        })
        .collect();
    let cases = super::cases_of(&mut conn, id, user).await?;
    let others = super::list(&mut conn, None, 500).await?.into_iter().filter(|p| p.id != id).collect();
    let hits = super::screening_service::hits_of_party(&mut conn, id).await?;
    let (filer_roles, declarations) = crate::declarations::service::of_filer(&mut conn, user, id).await?;
    let matters = crate::enforcement::service::of_party(&mut conn, user, id).await?;
    let applications = crate::authorizations::service::of_party(&mut conn, user, id).await?;
    let (reliances, opinions) = if user.may(crate::access::Action::ViewFilings) {
        (
            crate::general_authorizations::service::reliances(&mut conn, user, state.now(), Some(id)).await?,
            crate::opinions::service::of_party(&mut conn, user, id).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    drop(conn);
    let reference = Reference::load(&state.db).await?;
    render_as(
        status,
        &ShowPage {
            layout: Layout::for_user(&state.web, "/parties", Some(user)),
            party,
            chain,
            evidence,
            cases,
            reference,
            criteria: NexusCriterion::ALL,
            kinds: PartyKind::ALL,
            others,
            can_work: user.may(crate::access::Action::WorkCases),
            csrf_token: user.csrf_token.clone(),
            message,
            message_is_error: is_error,
            hits,
            filer_roles,
            declarations,
            filer_role_choices: crate::declarations::FilerRole::ALL,
            matters,
            can_open_matter: user.may(crate::access::Action::WorkEnforcement),
            applications,
            can_file_application: user.may(crate::access::Action::WorkFilings),
            reliances,
            opinions,
            can_export: user.may(crate::access::Action::ExportCases),
        },
    )
}

/// `GET /parties/{id}`.
pub async fn show(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    flash: Flash,
) -> Result<Response, AppError> {
    show_page(&state, &user, id, flash.message, flash.is_error, StatusCode::OK).await
}

/// `POST /parties/{id}`: edit.
pub async fn update(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    AppForm(f): AppForm<PartyForm>,
) -> Result<Response, AppError> {
    let result = match (f.to_input(), f.version) {
        (Ok(input), Some(v)) => match input.parse() {
            Ok(valid) => super::update(&mut *state.conn().await?, &user, state.now(), &state.screening, id, v, valid)
                .await
                .map_err(AppError::from)
                .map(|_| ()),
            Err(e) => Err(AppError::Invalid(e)),
        },
        (Err(e), _) => Err(AppError::Invalid(e)),
        (_, None) => Err(AppError::invalid("version", "is missing; reload the page")),
    };
    answer_form(&state.web, &user, result, "Party saved.", &format!("/parties/{id}"), |o| {
        show_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// The evidence form.
#[derive(Debug, Deserialize)]
pub struct EvidenceForm {
    criterion: Choice<NexusCriterion>,
    adversary: String,
    finding: String,
    #[serde(default)]
    source: String,
}

/// `POST /parties/{id}/evidence`.
pub async fn add_evidence(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    AppForm(f): AppForm<EvidenceForm>,
) -> Result<Response, AppError> {
    let input =
        super::EvidenceInput { criterion: f.criterion, adversary: f.adversary, finding: f.finding, source: f.source };
    let result = super::add_evidence(&mut *state.conn().await?, &user, state.now(), id, &input).await.map(|_| ());
    answer_form(&state.web, &user, result, "Evidence recorded.", &format!("/parties/{id}"), |o| {
        show_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// Linking a party from the case page.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    party_id: String,
    role: String,
}

/// `POST /cases/{id}/parties`.
pub async fn link(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<LinkForm>,
) -> Result<Response, AppError> {
    let result = match (f.party_id.trim().parse::<PartyId>(), PartyRole::parse(f.role.trim())) {
        (Ok(p), Some(r)) => crate::cases::service::link_party(&mut *state.conn().await?, &user, state.now(), id, p, r)
            .await
            .map_err(AppError::from),
        (Err(_), _) => Err(AppError::invalid("party_id", "choose a party")),
        (_, None) => Err(AppError::invalid("role", "choose a role")),
    };
    answer_form(&state.web, &user, result, "Party linked.", &format!("/cases/{id}"), |o| {
        crate::cases::web::case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// Recording a transaction from the case page.
#[derive(Debug, Deserialize)]
pub struct TransactionForm {
    item: String,
    kind: String,
    status: String,
    #[serde(default)]
    initiated_on: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    ongoing_activity: String,
    #[serde(default)]
    value_usd: String,
    #[serde(default)]
    us_persons_affected: String,
    #[serde(default)]
    supplier: String,
    #[serde(default)]
    counterparty: String,
}

/// `POST /cases/{id}/transactions`.
pub async fn add_transaction(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let f: TransactionForm = serde_json::from_value(serde_json::Value::Object(
        url::form_urlencoded::parse(body.as_bytes())
            .filter(|(k, _)| k != "data_categories")
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect(),
    ))
    .map_err(|e| AppError::invalid("form", e.to_string()))?;
    let data_categories: Vec<String> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k == "data_categories")
        .map(|(_, v)| v.into_owned())
        .collect();
    let mut errors = Vec::new();
    let num = |field: &'static str, v: &str, errors: &mut Vec<FieldError>| -> Option<f64> {
        let v = v.trim().replace(',', "");
        if v.is_empty() {
            return None;
        }
        v.parse::<f64>().ok().or_else(|| {
            errors.push(FieldError::new(field, "must be a number"));
            None
        })
    };
    let value_usd = num("value_usd", &f.value_usd, &mut errors);
    let us_persons = num("us_persons_affected", &f.us_persons_affected, &mut errors).map(|v| v as i64);
    let mut parties = Vec::new();
    for (field, v, role) in
        [("supplier", &f.supplier, PartyRole::Supplier), ("counterparty", &f.counterparty, PartyRole::UsCounterparty)]
    {
        if !v.trim().is_empty() {
            match v.trim().parse::<PartyId>() {
                Ok(p) => {
                    parties.push(crate::cases::transactions::TransactionPartyInput { party_id: p, role: role.into() })
                }
                Err(_) => errors.push(FieldError::new(field, "choose a party")),
            }
        }
    }
    let input = crate::cases::transactions::TransactionInput {
        item: f.item,
        kind: Choice::named(f.kind.trim()),
        status: Choice::named(f.status.trim()),
        initiated_on: Some(f.initiated_on),
        completed_on: Some(f.completed_on),
        ongoing_activity: f.ongoing_activity,
        value_usd,
        us_persons_affected: us_persons,
        data_categories,
        parties,
    };
    let known = crate::cases::reference::data_category_codes(&state.db).await?;
    // Every problem of the form at once: the numbers and pickers read here, the rest by the domain.
    let result = match input.parse(&known) {
        Ok(valid) if errors.is_empty() => {
            crate::cases::transactions::create(&mut *state.conn().await?, &user, state.now(), id, valid)
                .await
                .map_err(AppError::from)
                .map(|_| ())
        }
        Ok(_) => Err(AppError::Invalid(errors)),
        Err(more) => {
            for m in more {
                if !errors.iter().any(|e| e.field == m.field) {
                    errors.push(m);
                }
            }
            Err(AppError::Invalid(errors))
        }
    };
    answer_form(&state.web, &user, result, "Transaction recorded.", &format!("/cases/{id}"), |o| {
        crate::cases::web::case_page_after(&state, &user, id, o, "transaction", "tx-", &body)
    })
    .await
}

/// Consolidating from the case page.
#[derive(Debug, Deserialize)]
pub struct ConsolidateForm {
    from: String,
}

/// `POST /cases/{id}/consolidate` (supervisors): `from` is a docket number or case id.
pub async fn consolidate(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<ConsolidateForm>,
) -> Result<Response, AppError> {
    let from = f.from.trim();
    let source: Option<CaseId> = match from.parse::<CaseId>() {
        Ok(u) => Some(u),
        Err(_) => crate::cases::db::id_by_docket(&mut *state.conn().await?, from).await?,
    };
    let result = match source {
        Some(s) => crate::cases::transactions::consolidate(&mut *state.conn().await?, &user, state.now(), id, s)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
        None => Err(AppError::invalid("from", "no case with that docket number")),
    };
    let result = match result {
        Err(AppError::NotFound) => Err(AppError::invalid("from", "no case with that docket number")),
        other => other,
    };
    answer_form(&state.web, &user, result, "Case consolidated into this one.", &format!("/cases/{id}"), |o| {
        crate::cases::web::case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

#[derive(Template)]
#[template(path = "admin/screening.html")]
struct ListsPage {
    layout: Layout,
    lists: Vec<ListVersion>,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

async fn lists_page(
    state: &AppState,
    user: &SignedIn,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let lists = screening_service::lists(&mut conn).await?;
    render_as(
        status,
        &ListsPage {
            layout: Layout::for_user(&state.web, "/admin/screening", Some(user)),
            lists,
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /admin/screening` (administrators).
pub async fn lists_admin(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    flash: Flash,
) -> Result<Response, AppError> {
    lists_page(&state, &user, flash.message, flash.is_error, StatusCode::OK).await
}

/// `POST /admin/screening` (administrators): upload a list file (multipart, field `file`).
pub async fn upload(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    AppMultipart(mut multipart): AppMultipart,
) -> Result<Response, AppError> {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload is not a valid form: {e}")))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.csv").chars().take(200).collect::<String>();
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        return lists_page(
            &state,
            &user,
            "file: choose a list file (CSV)".into(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if std::str::from_utf8(&bytes).is_err() {
        return lists_page(
            &state,
            &user,
            "file: is not a UTF-8 text (CSV) file".into(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match screening_service::import_list(
        &mut *state.conn().await?,
        state.now(),
        &user.audit(),
        Some(user.id),
        &name,
        &bytes,
        state.screening.threshold,
    )
    .await
    .map_err(AppError::from)
    {
        Ok((version, parties, cases)) => {
            let m = format!(
                "List version {version} imported: {parties} parties with new hits, {cases} open cases flagged."
            );
            Ok(Flash::done(m).see_other(&state.web, &user, "/admin/screening"))
        }
        Err(AppError::Invalid(e)) => {
            let m = e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            lists_page(&state, &user, format!("The file was refused: {m}"), true, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e),
    }
}

/// The decision form on the party page.
#[derive(Debug, Deserialize)]
pub struct HitForm {
    decision: Choice<super::api::HitVerdict>,
    reason: String,
    party_id: PartyId,
}

/// `POST /screening/hits/{id}`.
pub async fn decide_page(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<HitId>,
    AppForm(f): AppForm<HitForm>,
) -> Result<Response, AppError> {
    let result = match parse_decision(&f.decision) {
        Ok(c) => screening_service::decide_hit(&mut *state.conn().await?, &user, state.now(), id, c, &f.reason)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
        Err(e) => Err(e),
    };
    answer_form(&state.web, &user, result, "Screening hit decided.", &format!("/parties/{}", f.party_id), |o| {
        super::web::show_page(&state, &user, f.party_id, o.message, o.is_error, o.status)
    })
    .await
}
