//! Advisory opinion pages: the requests' list, the form that files one, a request's page
//! (its content and what it lacks, its history, the forms of its acts, material and
//! opinion), the page that signs the opinion after a fresh re-authentication, and the
//! opinion's public version. Every successful post answers 303 to the page that shows it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::OpinionQuery;
use super::model::{ActRow, Contents, Item, NewOpinion, PublicOpinion, Request, Status};
use super::service::{self, Material, NewAct, NewRequest, SignRequest};
use crate::app::AppState;
use crate::choice::Choice;
use crate::ids::{OpinionId, PartyId};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, Pager, render, render_as, show_time};
use crate::web::list::ListQuery;

/// The fields of every form of these pages, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    requester_id: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    interest: String,
    #[serde(default)]
    filed_on: String,
    #[serde(default)]
    submitter: String,
    #[serde(default)]
    submitter_address: String,
    #[serde(default)]
    parties: String,
    #[serde(default)]
    technology: String,
    #[serde(default)]
    vehicle: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    other: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    answers: String,
    #[serde(default)]
    conclusion: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    content_sha256: String,
    #[serde(default)]
    version: i64,
}

impl PageForm {
    fn contents(&self) -> Contents {
        Contents {
            submitter: self.submitter.clone(),
            submitter_address: self.submitter_address.clone(),
            parties: self.parties.clone(),
            technology: self.technology.clone(),
            vehicle: self.vehicle.clone(),
            system: self.system.clone(),
            other: self.other.clone(),
        }
    }

    /// The text typed for item `i`.
    fn item(&self, i: &Item) -> String {
        self.contents().get(*i).to_string()
    }
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "opinions/list.html")]
struct ListPage {
    layout: Layout,
    q: OpinionQuery,
    rows: Vec<Request>,
    total: String,
    pager: Pager,
    statuses: [Status; 6],
    errors: FormErrors,
    can_file: bool,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

crate::list_query! {
    OpinionQuery => "/opinions";
    sorts ["newest", "oldest"] descending ["newest"];
    params q, status, requester, sort, limit, cursor, before
}

/// `GET /opinions`: the requests, filtered and paged, newest first unless asked otherwise.
pub async fn list(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<OpinionQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let (rows, next, prev, total, errors) = match q.to_filter() {
        Ok(f) => {
            let page = service::page(&mut conn, &user, &f).await?;
            let total = page.total(f.page.after.is_some(), service::count(&mut conn, &user, &f)).await?;
            (page.rows, page.next, page.prev, total.describe("request", "requests"), Vec::new())
        }
        Err(e) => (Vec::new(), None, None, String::new(), e),
    };
    let pager = q.pager(next, prev);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &ListPage {
            layout: Layout::for_user(&state.web, "/opinions", Some(&user)),
            q,
            rows,
            total,
            pager,
            statuses: Status::ALL,
            errors: FormErrors(errors),
            can_file: user.may(crate::access::Action::WorkFilings),
        },
    )
}

#[derive(Template)]
#[template(path = "opinions/new.html")]
struct NewPage {
    layout: Layout,
    /// The filers to choose from; none when the form takes a filer's name (`by_name`).
    filers: Vec<(PartyId, String)>,
    by_name: bool,
    items: [Item; 7],
    form: PageForm,
    errors: FormErrors,
    csrf_token: String,
}

/// The requester a new request's form is for: `?requester=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    #[serde(default)]
    requester: String,
}

async fn new_page(
    state: &AppState,
    user: &SignedIn,
    form: PageForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let (filers, by_name) = crate::declarations::service::filer_choices(&mut conn, user, &form.requester_id).await?;
    render_as(
        status,
        &NewPage {
            layout: Layout::for_user(&state.web, "/opinions", Some(user)),
            filers,
            by_name,
            items: Item::ALL,
            form,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /opinions/new`.
pub async fn new(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<NewQuery>,
) -> Result<Response, AppError> {
    let form = PageForm { requester_id: q.requester, ..PageForm::default() };
    new_page(&state, &user, form, Vec::new(), StatusCode::OK).await
}

/// `POST /opinions`.
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let requester =
        match crate::declarations::service::filer_named(&mut *state.conn().await?, &f.requester_id, "requester_id")
            .await?
        {
            Ok(p) => p,
            Err(e) => return new_page(&state, &user, f, vec![e], StatusCode::UNPROCESSABLE_ENTITY).await,
        };
    let n = NewRequest {
        requester_id: requester,
        question: f.question.clone(),
        interest: f.interest.clone(),
        contents: f.contents(),
        filed_on: some(&f.filed_on),
    };
    match service::file(&mut *state.conn().await?, &user, state.now(), &n, "form").await.map_err(AppError::from) {
        Ok(r) => {
            let message = format!("{} is filed. Check it for completeness next.", r.number);
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/opinions/{}", r.id)))
        }
        Err(AppError::Invalid(errors)) => new_page(&state, &user, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "opinions/show.html")]
struct ShowPage {
    layout: Layout,
    r: Request,
    items: Vec<(Item, String)>,
    missing: Vec<String>,
    acts: Vec<(ActRow, String, String)>,
    /// Each open question's number and text.
    open: Vec<(i64, String)>,
    draft_sha256: Option<String>,
    can_work: bool,
    can_sign: bool,
    sign_refusal: Option<String>,
    failed: String,
    form: PageForm,
    errors: FormErrors,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

impl ShowPage {
    fn typed(&self, form: &str) -> bool {
        self.failed == form
    }

    /// The opinion as the office reads it: each confidential span shown as `[CBI: …]`.
    fn internal(&self) -> String {
        crate::determinations::document::redact(&self.r.opinion, false)
    }
}

async fn show_page(
    state: &AppState,
    user: &SignedIn,
    id: OpinionId,
    (failed, form, errors): (&str, PageForm, Vec<FieldError>),
    (message, is_error): (String, bool),
    status: StatusCode,
) -> Result<Response, AppError> {
    let v = service::get(&mut *state.conn().await?, user, id).await?;
    let r = v.request;
    let open = super::model::open_questions(&v.acts);
    let acts = v
        .acts
        .into_iter()
        .map(|x| {
            let items: Vec<String> = x.items.iter().filter_map(|i| Item::parse(i)).map(Item::cite).collect();
            let at = show_time(x.recorded_at, &user.zone);
            (x, items.join(", "), at)
        })
        .collect();
    render_as(
        status,
        &ShowPage {
            layout: Layout::for_user(&state.web, "/opinions", Some(user)),
            items: Item::ALL.into_iter().map(|i| (i, r.contents.get(i).to_string())).collect(),
            missing: v.missing.iter().map(|i| i.named()).collect(),
            acts,
            open,
            draft_sha256: v.draft_sha256,
            can_work: user.may(crate::access::Action::WorkFilings),
            can_sign: user.may(crate::access::Action::SignAuthorizations),
            sign_refusal: service::why_not_signable(user, &r),
            r,
            failed: failed.to_string(),
            form,
            errors: FormErrors(errors),
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /opinions/{id}`.
pub async fn show(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    flash: Flash,
) -> Result<Response, AppError> {
    show_page(&state, &user, id, ("", PageForm::default(), Vec::new()), (flash.message, flash.is_error), StatusCode::OK)
        .await
}

/// Answers a post of a request's page: 303 back with the message once done; else the page
/// again with the form as typed and its errors (422), or the refusal (409).
async fn answered(
    (state, user, id): (&AppState, &SignedIn, OpinionId),
    done: Result<String, AppError>,
    (failed, form): (&str, PageForm),
) -> Result<Response, AppError> {
    Flash::answered(&state.web, user, &format!("/opinions/{id}"), done, |errors, message, status| {
        show_page(state, user, id, (failed, form, errors), message, status)
    })
    .await
}

/// `POST /opinions/{id}/acts`.
pub async fn record_act(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let done = match f.answers.trim() {
        "" => Ok(None),
        t => t.parse::<i64>().map(Some).map_err(|_| AppError::invalid("answers", "choose the question answered")),
    };
    let done = match done {
        Ok(answers) => {
            let n = NewAct {
                kind: Choice::named(f.kind.trim()),
                effective_on: some(&f.effective_on),
                note: f.note.clone(),
                answers,
                version: f.version,
            };
            service::record_act(&mut *state.conn().await?, &user, state.now(), id, &n)
                .await
                .map(|r| format!("Recorded. {} is {} now.", r.number, r.status.label().to_lowercase()))
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    answered((&state, &user, id), done, ("act", f)).await
}

/// `POST /opinions/{id}/material`.
pub async fn add_material(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let m = Material { contents: f.contents(), note: f.note.clone(), source: f.source.clone(), version: f.version };
    let done = service::add_material(&mut *state.conn().await?, &user, state.now(), id, &m)
        .await
        .map(|r| format!("Material added to {}.", r.number))
        .map_err(AppError::from);
    answered((&state, &user, id), done, ("material", f)).await
}

/// `POST /opinions/{id}/opinion`: drafts (or redrafts) the opinion.
pub async fn draft(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let d =
        NewOpinion { conclusion: Choice::named(f.conclusion.trim()), opinion: f.opinion.clone(), version: f.version };
    let done = service::draft(&mut *state.conn().await?, &user, state.now(), id, &d, state.mail)
        .await
        .map(|r| format!("Opinion drafted on {}: a second supervisor signs it.", r.number))
        .map_err(AppError::from);
    answered((&state, &user, id), done, ("opinion", f)).await
}

#[derive(Template)]
#[template(path = "opinions/sign.html")]
struct SignPage {
    layout: Layout,
    r: Request,
    hash: String,
    csrf_token: String,
}

fn reauth(id: OpinionId) -> Response {
    Redirect::to(&format!("/account/reauth?next=%2Fopinions%2F{id}%2Fsign")).into_response()
}

/// `GET /opinions/{id}/sign`: the draft with its hash, after a fresh re-authentication.
pub async fn sign_form(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
) -> Result<Response, AppError> {
    if user.require_recent_reauth(state.now()).is_err() {
        return Ok(reauth(id));
    }
    let v = service::get(&mut *state.conn().await?, &user, id).await?;
    let refusal = match (&v.draft_sha256, service::why_not_signable(&user, &v.request)) {
        (None, _) => format!("{} has no draft opinion to sign", v.request.number),
        (Some(_), Some(why)) => why,
        (Some(hash), None) => {
            return render(&SignPage {
                layout: Layout::for_user(&state.web, &format!("/opinions/{id}"), Some(&user)),
                hash: hash.clone(),
                r: v.request,
                csrf_token: user.csrf_token.clone(),
            });
        }
    };
    let message = format!("Not signable: {refusal}.");
    show_page(&state, &user, id, ("", PageForm::default(), Vec::new()), (message, true), StatusCode::CONFLICT).await
}

/// `POST /opinions/{id}/sign`.
pub async fn sign(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let req = SignRequest { content_sha256: f.content_sha256.clone() };
    match service::sign(&mut *state.conn().await?, &user, state.now(), id, &req, state.mail)
        .await
        .map_err(AppError::from)
    {
        Err(AppError::ReauthRequired) => Ok(reauth(id)),
        done => {
            let done = done.map(|r| format!("Signed: {} is issued.", r.number));
            answered((&state, &user, id), done, ("sign", f)).await
        }
    }
}

#[derive(Template)]
#[template(path = "opinions/public.html")]
struct PublicPage {
    layout: Layout,
    p: PublicOpinion,
}

/// `GET /opinions/{id}/public`: the public version.
pub async fn public(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
) -> Result<Response, AppError> {
    let p = service::public(&mut *state.conn().await?, &user, id).await?;
    render(&PublicPage { layout: Layout::for_user(&state.web, &format!("/opinions/{id}"), Some(&user)), p })
}
