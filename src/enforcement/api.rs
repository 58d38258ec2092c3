//! Enforcement in the API: the basis of a penalty; matters, their acts and the list.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::db::{Filter, MatterPage};
use super::model::{ActRow, Basis, Factor, Matter, MatterStage, NewAct, NewMatter};
use super::service::{self, Asked};
use crate::app::AppState;
use crate::choice::Choice;
use crate::db::keyset::{self, Keyset};
use crate::error::FieldError;
use crate::ids::{MatterId, PartyId};
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// A penalty's facts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BasisQuery {
    /// The violation's date (`YYYY-MM-DD`).
    #[param(value_type = time::Date)]
    pub violation_on: String,
    /// The transaction's value in dollars, e.g. `1250000` or `1,250,000.50`.
    pub transaction_value: String,
    /// The factors weighed, comma-separated.
    #[param(value_type = Option<String>)]
    pub factors: Option<String>,
}

/// The maximum civil penalty for one violation and its basis (15 CFR 791.319; IEEPA): the
/// greater of the adjusted statutory maximum in force on the violation's date and twice
/// the transaction's value, with the factors weighed (voluntary self-disclosure among
/// them). Analysts, supervisors and auditors.
#[utoipa::path(get, path = "/api/v1/enforcement/penalty-basis", tag = "enforcement", params(BasisQuery),
    responses((status = 200, body = Basis), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn penalty_basis(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<BasisQuery>,
) -> Result<ApiJson<Basis>, AppError> {
    let factors = q.factors.as_deref().unwrap_or("").split(',').map(str::trim).filter(|f| !f.is_empty());
    let asked = Asked {
        violation_on: q.violation_on,
        transaction_value: q.transaction_value,
        factors: factors.map(Choice::<Factor>::named).collect(),
    };
    Ok(ApiJson(service::basis(&mut *state.conn().await?, &user, &asked).await?))
}

/// The matter list's filters and page: `?q=&stage=&party=&sort=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatterQuery {
    /// A part of the number, the party's name or the alleged violation.
    pub q: Option<String>,
    /// Only matters at this stage.
    #[param(value_type = Option<MatterStage>)]
    pub stage: Option<String>,
    /// Only this party's.
    #[param(value_type = Option<uuid::Uuid>)]
    pub party: Option<String>,
    /// `due` (those awaiting an answer first, by its date; the default), `newest` or
    /// `oldest` (opened).
    pub sort: Option<String>,
    /// Rows per page (1 to 200, 50 by default).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// The `next` of the page before.
    pub cursor: Option<String>,
    /// The `prev` of the page after (going back).
    pub before: Option<String>,
}

impl MatterQuery {
    /// The filter and page asked for, naming every bad parameter.
    pub fn to_filter(&self) -> Result<Filter, Vec<FieldError>> {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = Vec::new();
        let stage = some(&self.stage).and_then(|s| {
            Choice::<MatterStage>::named(&s).or_error("stage", "must be one of the stages listed", &mut errors)
        });
        let party = some(&self.party).and_then(|p| match p.parse::<PartyId>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(FieldError::new("party", "must be a party's id"));
                None
            }
        });
        let at = (self.limit.as_deref(), self.cursor.as_deref(), self.before.as_deref());
        // `Some(ascending)` by opening; `None` by the answers due.
        let opened = match some(&self.sort).as_deref() {
            None | Some("due") => None,
            Some("newest") => Some(false),
            Some("oldest") => Some(true),
            Some(_) => {
                errors.push(FieldError::new("sort", "must be due, newest or oldest"));
                None
            }
        };
        let page = match opened {
            Some(ascending) => MatterPage::Opened(Keyset::from_query(ascending, at, &mut errors)),
            None => MatterPage::Due(Keyset::from_query(true, at, &mut errors)),
        };
        let q = keyset::search_text(self.q.as_deref());
        if errors.is_empty() { Ok(Filter { q, stage, party, page }) } else { Err(errors) }
    }
}

/// A page of matters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatterList {
    pub matters: Vec<Matter>,
    /// How many the reader may see match the filters.
    pub total: crate::db::Total,
    /// Pass as `cursor` for the next page.
    pub next: Option<String>,
    /// Pass as `before` for the page before.
    pub prev: Option<String>,
}

/// The enforcement matters, filtered and paged: those awaiting an answer first by its
/// date unless asked otherwise (analysts, supervisors, auditors; a first-docket matter
/// only to who may see its case).
#[utoipa::path(get, path = "/api/v1/enforcement/matters", tag = "enforcement", params(MatterQuery),
    responses((status = 200, body = MatterList), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn matters(
    user: Authorized<perm::ViewEnforcement>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<MatterQuery>,
) -> Result<ApiJson<MatterList>, AppError> {
    let f = q.to_filter().map_err(AppError::Invalid)?;
    let mut conn = state.conn().await?;
    let page = service::page(&mut conn, &user, &f).await?;
    let total = page.total(f.page.from_cursor(), service::count(&mut conn, &user, &f)).await?;
    Ok(ApiJson(MatterList { matters: page.rows, total, next: page.next, prev: page.prev }))
}

/// Opens a matter for an alleged violation (analysts, supervisors): the party, the
/// provision (a case's final determination, or a section of Subpart D), the case or
/// declaration concerned, the violation's date and the transaction's value.
#[utoipa::path(post, path = "/api/v1/enforcement/matters", tag = "enforcement", request_body = NewMatter,
    responses((status = 201, body = Matter), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn open(
    user: Authorized<perm::WorkEnforcement>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewMatter>,
) -> Result<Response, AppError> {
    let m = service::open(&mut *state.conn().await?, &user, state.now(), &n).await?;
    let mut r = (StatusCode::CREATED, ApiJson(&m)).into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/enforcement/matters/{}", m.id)).expect("header-safe"),
    );
    Ok(r)
}

/// A matter with its acts and the basis of its penalty.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatterView {
    pub matter: Matter,
    /// Every act, in the order recorded.
    pub acts: Vec<ActRow>,
    /// The most a penalty may be, and why.
    pub penalty_basis: Basis,
}

/// A matter with its acts and its penalty's basis (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/enforcement/matters/{id}", tag = "enforcement", params(("id" = Uuid, Path)),
    responses((status = 200, body = MatterView), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn matter(
    user: Authorized<perm::ViewEnforcement>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MatterId>,
) -> Result<ApiJson<MatterView>, AppError> {
    let mut conn = state.conn().await?;
    let (matter, acts) = service::get(&mut conn, &user, id).await?;
    let penalty_basis = service::basis_of(&mut conn, &matter).await?;
    Ok(ApiJson(MatterView { matter, acts, penalty_basis }))
}

/// Records an act of the matter's proceeding in the rule's order, dated as it took effect:
/// an initial finding (answer due on the 30th day after delivery), its answer, the finding
/// made final, a pre-penalty notice (answer due on the 30th day after delivery, rolled past
/// weekends and federal holidays), an extension on request, the answer, a settlement, a
/// penalty notice (at most the penalty's basis), or the matter closed. The office's acts
/// are a supervisor's; answers an analyst's too. A stale `version` gets 409.
#[utoipa::path(post, path = "/api/v1/enforcement/matters/{id}/acts", tag = "enforcement", request_body = NewAct, params(("id" = Uuid, Path)),
    responses((status = 200, body = Matter), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_act(
    user: Authorized<perm::WorkEnforcement>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MatterId>,
    ApiJson(a): ApiJson<NewAct>,
) -> Result<ApiJson<Matter>, AppError> {
    Ok(ApiJson(service::record_act(&mut *state.conn().await?, &user, state.now(), id, &a).await?))
}
