//! General authorization pages: the published versions, the reliances with their standing
//! and the form that records one, GA 3's list as of a date with its applications and the
//! office's decisions; a reliance's page with its acts and the form of the next. Every
//! successful post answers 303 to the page that shows it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::model::{
    ActKind, ActRow, GeneralAuthorization, NewAct, NewReliance, NewSupplier, Reliance, Supplier, SupplierDecision,
};
use super::service;
use crate::app::AppState;
use crate::choice::Choice;
use crate::ids::{PartyId, RelianceId, SupplierId};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, render_as, show_time};

/// The fields of every form of these pages, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    party_id: String,
    #[serde(default)]
    ga_number: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    relied_from: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: i64,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "general_authorizations/index.html")]
struct IndexPage {
    layout: Layout,
    versions: Vec<GeneralAuthorization>,
    reliances: Vec<Reliance>,
    listed: Vec<Supplier>,
    applications: Vec<Supplier>,
    on: String,
    /// The filers to choose from; none when the form takes a filer's name (`by_name`).
    filers: Vec<(PartyId, String)>,
    by_name: bool,
    can_work: bool,
    can_decide: bool,
    /// The form that failed (`rely`, `supplier`, `decision`) and its fields.
    failed: String,
    form: PageForm,
    errors: FormErrors,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

impl IndexPage {
    fn typed(&self, form: &str) -> bool {
        self.failed == form
    }
}

/// The page's query: GA 3's list as of `?on=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexQuery {
    #[serde(default)]
    on: String,
}

async fn index_page(
    state: &AppState,
    user: &SignedIn,
    on: String,
    (failed, form, errors): (&str, PageForm, Vec<FieldError>),
    (message, is_error): (String, bool),
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut errors = errors;
    let today = crate::dates::today(state.now());
    let day = match on.trim() {
        "" => today,
        t => crate::dates::parse_date(t).unwrap_or_else(|| {
            errors.push(FieldError::new("on", "give a date as YYYY-MM-DD"));
            today
        }),
    };
    let status = if errors.is_empty() { status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut conn = state.conn().await?;
    let (filers, by_name) = crate::declarations::service::filer_choices(&mut conn, user, "").await?;
    render_as(
        status,
        &IndexPage {
            layout: Layout::for_user(&state.web, "/general-authorizations", Some(user)),
            versions: service::versions(&mut conn, user).await?,
            reliances: service::reliances(&mut conn, user, state.now(), None).await?,
            listed: service::listed_on(&mut conn, user, day).await?,
            applications: service::suppliers(&mut conn, user).await?,
            on: day.to_string(),
            by_name,
            filers,
            can_work: user.may(crate::access::Action::WorkFilings),
            can_decide: user.may(crate::access::Action::SignAuthorizations),
            failed: failed.to_string(),
            form,
            errors: FormErrors(errors),
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /general-authorizations`.
pub async fn index(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<IndexQuery>,
    flash: Flash,
) -> Result<Response, AppError> {
    let shown = (flash.message, flash.is_error);
    index_page(&state, &user, q.on, ("", PageForm::default(), Vec::new()), shown, StatusCode::OK).await
}

/// Answers a post of the index page: 303 back once done; else the page with the form kept.
async fn answered_index(
    (state, user): (&AppState, &SignedIn),
    done: Result<(String, String), AppError>,
    (failed, form): (&str, PageForm),
) -> Result<Response, AppError> {
    match done {
        Ok((message, to)) => Ok(Flash::done(message).see_other(&state.web, user, &to)),
        Err(AppError::Invalid(e)) => {
            let shown = (String::new(), false);
            index_page(state, user, String::new(), (failed, form, e), shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(m)) => {
            let kept = (failed, form, Vec::new());
            index_page(state, user, String::new(), kept, (m, true), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /general-authorizations/reliances`.
pub async fn rely(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let named = crate::declarations::service::filer_named(&mut *state.conn().await?, &f.party_id, "party_id").await?;
    let done = match named.map_err(|e| AppError::Invalid(vec![e])) {
        Ok(party) => {
            let n = NewReliance {
                party_id: party,
                ga_number: f.ga_number.clone(),
                declaration_id: None,
                summary: f.summary.clone(),
                relied_from: some(&f.relied_from),
            };
            service::rely(&mut *state.conn().await?, &user, state.now(), &n)
                .await
                .map(|r| {
                    let to = format!("/general-authorizations/reliances/{}", r.id);
                    (format!("{}'s reliance on {} is recorded.", r.party_name, r.ga_number), to)
                })
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    answered_index((&state, &user), done, ("rely", f)).await
}

/// `POST /general-authorizations/suppliers`.
pub async fn apply_supplier(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let typed = f.party_id.trim();
    let named = match typed.parse::<PartyId>() {
        Ok(p) => Ok(Some(p)),
        Err(_) if typed.is_empty() => Ok(None),
        Err(_) => {
            let found = crate::parties::list(&mut *state.conn().await?, Some(typed), 20).await?;
            found
                .into_iter()
                .find(|p| p.legal_name.eq_ignore_ascii_case(typed))
                .map(|p| Some(p.id))
                .ok_or_else(|| AppError::invalid("party_id", format!("no party named {typed} is in the registry")))
        }
    };
    let done = match named {
        Ok(party) => {
            let n = NewSupplier { party_id: party, applied_on: some(&f.effective_on) };
            service::apply_supplier(&mut *state.conn().await?, &user, state.now(), &n)
                .await
                .map(|s| (format!("{}'s application is recorded.", s.party_name), "/general-authorizations#ga3".into()))
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    answered_index((&state, &user), done, ("supplier", f)).await
}

/// `POST /general-authorizations/suppliers/{id}/decision`.
pub async fn decide_supplier(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<SupplierId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let d = SupplierDecision {
        status: Choice::named(f.status.trim()),
        on: some(&f.effective_on),
        reason: f.reason.clone(),
        version: f.version,
    };
    let done = service::decide_supplier(&mut *state.conn().await?, &user, state.now(), id, &d)
        .await
        .map(|s| (format!("{}: {}.", s.party_name, s.status.label()), "/general-authorizations#ga3".into()))
        .map_err(AppError::from);
    answered_index((&state, &user), done, ("decision", f)).await
}

#[derive(Template)]
#[template(path = "general_authorizations/reliance.html")]
struct ReliancePage {
    layout: Layout,
    r: Reliance,
    acts: Vec<(ActRow, String)>,
    kinds: [ActKind; 4],
    can_work: bool,
    form: PageForm,
    errors: FormErrors,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

async fn reliance_page(
    state: &AppState,
    user: &SignedIn,
    id: RelianceId,
    (form, errors): (PageForm, Vec<FieldError>),
    (message, is_error): (String, bool),
    status: StatusCode,
) -> Result<Response, AppError> {
    let (r, acts) = service::reliance(&mut *state.conn().await?, user, state.now(), id).await?;
    let acts = acts
        .into_iter()
        .map(|a| {
            let at = show_time(a.recorded_at, &user.zone);
            (a, at)
        })
        .collect();
    render_as(
        status,
        &ReliancePage {
            layout: Layout::for_user(&state.web, "/general-authorizations", Some(user)),
            r,
            acts,
            kinds: ActKind::RECORDED,
            can_work: user.may(crate::access::Action::WorkFilings),
            form,
            errors: FormErrors(errors),
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /general-authorizations/reliances/{id}`.
pub async fn reliance(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<RelianceId>,
    flash: Flash,
) -> Result<Response, AppError> {
    reliance_page(&state, &user, id, (PageForm::default(), Vec::new()), (flash.message, flash.is_error), StatusCode::OK)
        .await
}

/// `POST /general-authorizations/reliances/{id}/acts`.
pub async fn record(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<RelianceId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let a = NewAct {
        kind: Choice::named(f.kind.trim()),
        effective_on: some(&f.effective_on),
        note: f.note.clone(),
        version: f.version,
    };
    match service::record(&mut *state.conn().await?, &user, state.now(), id, &a).await.map_err(AppError::from) {
        Ok(r) => {
            let message = format!("Recorded. The reliance is {}.", r.standing.status.label().to_lowercase());
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/general-authorizations/reliances/{id}")))
        }
        Err(AppError::Invalid(e)) => {
            reliance_page(&state, &user, id, (f, e), (String::new(), false), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(m)) => {
            reliance_page(&state, &user, id, (f, Vec::new()), (m, true), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}
