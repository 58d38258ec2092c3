//! Declaration pages: the list with its filters and the form that receives a declaration;
//! a declaration's page with its history, its review and its amendment; and the filer-role
//! form of a party's page. Every successful post answers 303 to the page that shows it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::api::DeclarationQuery;
use super::model::{
    Declaration, DeclarationAmendment, DeclarationKind, DeclarationStatus, DeclarationStatusChange, DueDate, FilerRole,
    HistoryEntry, Missing, NewAnswer, NewDeclaration, NewDueDate, NewFilerRole, NewQuestion, Question,
};
use super::service::{self, Via};
use crate::app::AppState;
use crate::choice::Choice;
use crate::ids::{DeclarationId, PartyId};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, Pager, render_as, show_time};
use crate::web::list::ListQuery;

/// The fields of the form that files a declaration or an amendment, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeclarationForm {
    #[serde(default)]
    filer_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    model_year: String,
    #[serde(default)]
    calendar_year: String,
    /// One per line.
    #[serde(default)]
    covers: String,
    /// One per line.
    #[serde(default)]
    certifications: String,
    #[serde(default)]
    general_authorization: String,
    #[serde(default)]
    filed_on: String,
    /// What changed (an amendment).
    #[serde(default)]
    reason: String,
}

impl DeclarationForm {
    /// The declaration the form names, with its filer as found from what was typed
    /// ([`service::filer_named`]), or what in it is no filer, number or year.
    fn to_input(&self, filer: Result<Option<PartyId>, FieldError>) -> Result<NewDeclaration, Vec<FieldError>> {
        let mut errors = Vec::new();
        let filer_id = match filer {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                errors.push(FieldError::new("filer_id", "choose the filer"));
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let mut year = |field: &str, v: &str| match v.trim() {
            "" => None,
            y => y.parse::<i64>().map(Some).unwrap_or_else(|_| {
                errors.push(FieldError::new(field, "must be a year from 2024 to 2100"));
                None
            }),
        };
        let (model_year, calendar_year) =
            (year("model_year", &self.model_year), year("calendar_year", &self.calendar_year));
        let lines = |v: &str| v.lines().map(str::to_string).collect::<Vec<_>>();
        match filer_id {
            Some(filer_id) if errors.is_empty() => Ok(NewDeclaration {
                filer_id,
                kind: Choice::named(self.kind.trim()),
                model_year,
                calendar_year,
                covers: lines(&self.covers),
                certifications: lines(&self.certifications),
                general_authorization: Some(self.general_authorization.clone()),
                filed_on: Some(self.filed_on.clone()),
            }),
            _ => Err(errors),
        }
    }

    /// The form of a declaration, to amend it.
    fn of(d: &Declaration) -> DeclarationForm {
        DeclarationForm {
            filer_id: d.filer_id.to_string(),
            kind: d.kind.as_str().into(),
            model_year: d.model_year.map(|y| y.to_string()).unwrap_or_default(),
            calendar_year: d.calendar_year.map(|y| y.to_string()).unwrap_or_default(),
            covers: d.covers.join("\n"),
            certifications: d.certifications.join("\n"),
            general_authorization: d.general_authorization.clone().unwrap_or_default(),
            filed_on: String::new(),
            reason: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "declarations/list.html")]
struct ListPage {
    layout: Layout,
    q: DeclarationQuery,
    rows: Vec<Declaration>,
    total: String,
    pager: Pager,
    list_errors: FormErrors,
    can_work: bool,
    /// The filers to choose from; none when the form takes a filer's name (`by_name`).
    filers: Vec<(PartyId, String)>,
    by_name: bool,
    form: DeclarationForm,
    errors: FormErrors,
    csrf_token: String,
    statuses: [DeclarationStatus; 6],
    kinds: [DeclarationKind; 3],
    /// Filers expected but missing, and how many in all.
    missing: Vec<Missing>,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

crate::list_query! {
    DeclarationQuery => "/declarations";
    params q, status, kind, year, filer, limit, cursor, before
}

async fn list_page(
    state: &AppState,
    user: &SignedIn,
    q: DeclarationQuery,
    form: DeclarationForm,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (rows, next, prev, total, list_errors) = match q.to_filter() {
        Ok(f) => {
            let page = service::page(&mut conn, user, &f).await?;
            let total = if page.next.is_none() && page.prev.is_none() && f.after.is_none() {
                crate::db::Total::Exact(page.rows.len() as i64)
            } else {
                service::count(&mut conn, user, &f).await?
            };
            (page.rows, page.next, page.prev, total.describe("declaration", "declarations"), Vec::new())
        }
        Err(e) => (Vec::new(), None, None, String::new(), e),
    };
    let pager = q.pager(next, prev);
    let can_work = user.may(crate::access::Action::WorkFilings);
    let (filers, by_name) = match can_work {
        true => service::filer_choices(&mut conn, user, "").await?,
        false => (Vec::new(), false),
    };
    let missing = service::missing(&mut conn, user, state.now()).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &ListPage {
            layout: Layout::for_user(&state.web, "/declarations", Some(user)),
            q,
            rows,
            total,
            pager,
            list_errors: FormErrors(list_errors),
            can_work,
            filers,
            by_name,
            form,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
            statuses: DeclarationStatus::ALL,
            kinds: DeclarationKind::ALL,
            missing,
        },
    )
}

/// `GET /declarations`: the declarations received, filtered and paged, and (for analysts
/// and supervisors) the form that receives one.
pub async fn list(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<DeclarationQuery>,
) -> Result<Response, AppError> {
    let form = DeclarationForm { kind: "completed_vehicle".into(), ..DeclarationForm::default() };
    list_page(&state, &user, q, form, Vec::new()).await
}

/// `POST /declarations`: receives a declaration typed from a filing.
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppForm(f): AppForm<DeclarationForm>,
) -> Result<Response, AppError> {
    let filer = service::filer_named(&mut *state.conn().await?, &f.filer_id, "filer_id").await?;
    let done = match f.to_input(filer) {
        Ok(n) => {
            service::file(&mut *state.conn().await?, &user, state.now(), &n, Via::Form).await.map_err(AppError::from)
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    match done {
        Ok(d) => {
            let message = format!("{} is received for {} ({}, {}).", d.number, d.filer_name, d.kind.label(), d.year());
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/declarations/{}", d.id)))
        }
        Err(AppError::Invalid(errors)) => list_page(&state, &user, DeclarationQuery::default(), f, errors).await,
        Err(AppError::Conflict(message)) => {
            let errors = vec![FieldError::new("filer_id", message)];
            let mut r = list_page(&state, &user, DeclarationQuery::default(), f, errors).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "declarations/show.html")]
struct ShowPage {
    layout: Layout,
    d: Declaration,
    received_at: String,
    history: Vec<(HistoryEntry, String)>,
    amends_number: Option<String>,
    superseded_by_number: Option<String>,
    message: String,
    message_is_error: bool,
    can_work: bool,
    next: Vec<DeclarationStatus>,
    status_errors: FormErrors,
    status_form: (String, String),
    amend_form: DeclarationForm,
    amend_errors: FormErrors,
    /// The questions asked of the filer, and whether more may be asked now.
    questions: Vec<Question>,
    may_ask: bool,
    ask_form: (String, String),
    ask_errors: FormErrors,
    answer_form: (i64, String, String),
    answer_errors: FormErrors,
    csrf_token: String,
}

/// What the page shows besides the declaration: a message, and a form that came back.
#[derive(Default)]
struct Shown {
    message: String,
    is_error: bool,
    status_errors: Vec<FieldError>,
    status_form: (String, String),
    amend: Option<DeclarationForm>,
    amend_errors: Vec<FieldError>,
    /// The question form (the question, the date) and its errors.
    ask_form: (String, String),
    ask_errors: Vec<FieldError>,
    /// The answer form of one question (its number, the answer, the date) and its errors.
    answer_form: (i64, String, String),
    answer_errors: Vec<FieldError>,
}

async fn show_page(
    state: &AppState,
    user: &SignedIn,
    id: DeclarationId,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (d, history) = service::get(&mut conn, user, id).await?;
    let questions = service::questions(&mut conn, user, id).await?;
    let amends_number = match d.amends {
        Some(a) => Some(service::number_of(&mut conn, user, a).await?),
        None => None,
    };
    let superseded_by_number = match d.superseded_by {
        Some(s) => Some(service::number_of(&mut conn, user, s).await?),
        None => None,
    };
    let history = history
        .into_iter()
        .map(|h| {
            let at = show_time(h.at, &user.zone);
            (h, at)
        })
        .collect();
    render_as(
        status,
        &ShowPage {
            layout: Layout::for_user(&state.web, "/declarations", Some(user)),
            received_at: show_time(d.received_at, &user.zone),
            history,
            amends_number,
            superseded_by_number,
            message: shown.message,
            message_is_error: shown.is_error,
            can_work: user.may(crate::access::Action::WorkFilings),
            next: d.status.next(),
            status_errors: FormErrors(shown.status_errors),
            status_form: shown.status_form,
            amend_form: shown.amend.unwrap_or_else(|| DeclarationForm::of(&d)),
            amend_errors: FormErrors(shown.amend_errors),
            questions,
            may_ask: matches!(d.status, DeclarationStatus::UnderReview | DeclarationStatus::QuestionsAsked),
            ask_form: shown.ask_form,
            ask_errors: FormErrors(shown.ask_errors),
            answer_form: shown.answer_form,
            answer_errors: FormErrors(shown.answer_errors),
            csrf_token: user.csrf_token.clone(),
            d,
        },
    )
}

/// Answers a post of a declaration's page: 303 to `to` with `message` once done; else the
/// page again, with the form's errors as `invalid` shows them (422) or the refusal (409).
async fn answered(
    (state, user, id): (&AppState, &SignedIn, DeclarationId),
    done: Result<(String, String), AppError>,
    invalid: impl FnOnce(Vec<FieldError>) -> Shown,
) -> Result<Response, AppError> {
    match done {
        Ok((message, to)) => Ok(Flash::done(message).see_other(&state.web, user, &to)),
        Err(AppError::Invalid(errors)) => {
            show_page(state, user, id, invalid(errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(message)) => {
            let shown = Shown { message, is_error: true, ..Shown::default() };
            show_page(state, user, id, shown, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

/// `GET /declarations/{id}`.
pub async fn show(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    flash: Flash,
) -> Result<Response, AppError> {
    let shown = Shown { message: flash.message, is_error: flash.is_error, ..Shown::default() };
    show_page(&state, &user, id, shown, StatusCode::OK).await
}

/// The review form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    version: i64,
}

/// `POST /declarations/{id}/status`.
pub async fn set_status(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    AppForm(f): AppForm<StatusForm>,
) -> Result<Response, AppError> {
    let change = DeclarationStatusChange {
        status: Choice::named(f.status.trim()),
        reason: f.reason.clone(),
        version: f.version,
    };
    let done = service::set_status(&mut *state.conn().await?, &user, state.now(), id, &change).await;
    let done = done
        .map(|d| (format!("{} is {} now.", d.number, d.status.label().to_lowercase()), format!("/declarations/{id}")));
    answered((&state, &user, id), done.map_err(AppError::from), |errors| Shown {
        status_errors: errors,
        status_form: (f.status, f.reason),
        ..Shown::default()
    })
    .await
}

/// `POST /declarations/{id}/amendment`: files its amendment.
pub async fn amend(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    AppForm(f): AppForm<DeclarationForm>,
) -> Result<Response, AppError> {
    let filer = service::filer_named(&mut *state.conn().await?, &f.filer_id, "filer_id").await?;
    let done = match f.to_input(filer) {
        Ok(n) => {
            let a = DeclarationAmendment { declaration: n, reason: f.reason.clone() };
            service::amend(&mut *state.conn().await?, &user, state.now(), id, &a, Via::Form)
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    let done = done.map(|d| {
        let message = format!("{} is received: it amends and supersedes the declaration before it.", d.number);
        (message, format!("/declarations/{}", d.id))
    });
    answered((&state, &user, id), done, |errors| Shown { amend: Some(f), amend_errors: errors, ..Shown::default() })
        .await
}

/// The filer-role form of a party's page.
#[derive(Debug, Deserialize)]
pub struct FilerRoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    since: String,
}

/// `POST /parties/{id}/filer-roles`: records a party's filer role, back to its page.
pub async fn record_filer_role(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    AppForm(f): AppForm<FilerRoleForm>,
) -> Result<Response, AppError> {
    let r = NewFilerRole { role: Choice::named(f.role.trim()), since: Some(f.since.clone()) };
    let to = format!("/parties/{id}#filer-roles");
    match service::record_filer_role(&mut *state.conn().await?, &user, state.now(), id, &r)
        .await
        .map_err(AppError::from)
    {
        Ok(_) => {
            let role = r.role.known().map(FilerRole::label).unwrap_or_default();
            Ok(Flash::done(format!("Recorded as a {}.", role.to_lowercase())).see_other(&state.web, &user, &to))
        }
        Err(AppError::Invalid(errors)) => {
            let message = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
            Ok(Flash::problem(format!("Nothing was recorded. {message}.")).see_other(&state.web, &user, &to))
        }
        Err(AppError::Conflict(message)) => Ok(Flash::problem(message).see_other(&state.web, &user, &to)),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "declarations/due_dates.html")]
struct DueDatesPage {
    layout: Layout,
    dates: Vec<DueDate>,
    form: DueDateForm,
    errors: FormErrors,
    csrf_token: String,
}

/// The due-date form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DueDateForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    note: String,
}

async fn due_dates_page(
    state: &AppState,
    user: &SignedIn,
    form: DueDateForm,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let dates = service::due_dates(&mut *state.conn().await?, user).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &DueDatesPage {
            layout: Layout::for_user(&state.web, "/admin/reference", Some(user)),
            dates,
            form,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /admin/declaration-due-dates` (administrators).
pub async fn due_dates(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    due_dates_page(&state, &user, DueDateForm::default(), Vec::new()).await
}

/// `POST /admin/declaration-due-dates` (administrators): sets a year's date.
pub async fn set_due_date(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    AppForm(f): AppForm<DueDateForm>,
) -> Result<Response, AppError> {
    let Ok(year) = f.year.trim().parse::<i64>() else {
        let errors = vec![FieldError::new("year", "must be a year from 2024 to 2100")];
        return due_dates_page(&state, &user, f, errors).await;
    };
    let n = NewDueDate { due_on: f.due_on.clone(), note: f.note.clone() };
    match service::set_due_date(&mut *state.conn().await?, &user, state.now(), year, &n).await.map_err(AppError::from) {
        Ok(d) => {
            let message = format!("Declarations for {} are expected by {}.", d.year, d.due_on);
            Ok(Flash::done(message).see_other(&state.web, &user, "/admin/declaration-due-dates"))
        }
        Err(AppError::Invalid(errors)) => due_dates_page(&state, &user, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "declarations/import.html")]
struct ImportPage {
    layout: Layout,
    csrf_token: String,
    errors: Vec<crate::cases::import::RowError>,
    columns: [(&'static str, &'static str); 8],
}

fn import_page(
    state: &AppState,
    user: &SignedIn,
    errors: Vec<crate::cases::import::RowError>,
) -> Result<Response, AppError> {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &ImportPage {
            layout: Layout::for_user(&state.web, "/declarations", Some(user)),
            csrf_token: user.csrf_token.clone(),
            errors,
            columns: super::bulk::COLUMNS,
        },
    )
}

/// `GET /declarations/import`: the bulk intake's form.
pub async fn import_form(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    import_page(&state, &user, Vec::new())
}

/// `GET /declarations/import/template.csv`.
pub async fn import_template(_user: Authorized<perm::WorkFilings>) -> Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"declarations-template.csv\""),
        ],
        super::bulk::template_csv(),
    )
        .into_response()
}

/// `POST /declarations/import`: receives a CSV file of declarations, all or none; every
/// row's problems come back at once.
pub async fn import_upload(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    crate::web::extract::AppMultipart(mut multipart): crate::web::extract::AppMultipart,
) -> Result<Response, AppError> {
    let mut data: Option<Vec<u8>> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload is not a valid form: {e}")))?
    {
        if field.name() == Some("file") {
            data = Some(field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?.to_vec());
        }
    }
    let problem =
        |message: &str| vec![crate::cases::import::RowError { row: 0, column: "file".into(), message: message.into() }];
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return import_page(&state, &user, problem("choose a CSV file"));
    };
    let Ok(text) = String::from_utf8(data) else {
        return import_page(&state, &user, problem("is not a UTF-8 text (CSV) file"));
    };
    match super::bulk::receive(&mut *state.conn().await?, &user, state.now(), &text).await? {
        Ok(received) => {
            let n = received.numbers.len();
            let message = format!(
                "{n} declaration{} received: {} to {}.",
                if n == 1 { " is" } else { "s are" },
                received.numbers.first().map(String::as_str).unwrap_or_default(),
                received.numbers.last().map(String::as_str).unwrap_or_default()
            );
            Ok(Flash::done(message).see_other(&state.web, &user, "/declarations?status=received"))
        }
        Err(errors) => import_page(&state, &user, errors),
    }
}

/// The form that asks the filer a question.
#[derive(Debug, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    question: String,
    #[serde(default)]
    asked_on: String,
    version: i64,
}

/// `POST /declarations/{id}/questions`.
pub async fn ask(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    AppForm(f): AppForm<AskForm>,
) -> Result<Response, AppError> {
    let q = NewQuestion {
        question: f.question.clone(),
        asked_on: Some(f.asked_on.clone()).filter(|s| !s.trim().is_empty()),
        version: f.version,
    };
    let done = service::ask(&mut *state.conn().await?, &user, state.now(), id, &q).await.map(|d| {
        (
            format!("Question asked. {} waits for the filer's answers.", d.number),
            format!("/declarations/{id}#questions"),
        )
    });
    answered((&state, &user, id), done.map_err(AppError::from), |errors| Shown {
        ask_errors: errors,
        ask_form: (f.question, f.asked_on),
        ..Shown::default()
    })
    .await
}

/// The form that records the filer's answer to a question.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    answered_on: String,
}

/// `POST /declarations/{id}/questions/{seq}/answer`.
pub async fn answer(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath((id, seq)): AppPath<(DeclarationId, i64)>,
    AppForm(f): AppForm<AnswerForm>,
) -> Result<Response, AppError> {
    let a = NewAnswer {
        answer: f.answer.clone(),
        answered_on: Some(f.answered_on.clone()).filter(|s| !s.trim().is_empty()),
    };
    let done = service::answer(&mut *state.conn().await?, &user, state.now(), id, seq, &a).await.map(|d| {
        let message = format!("Answer recorded. {} is {} now.", d.number, d.status.label().to_lowercase());
        (message, format!("/declarations/{id}#questions"))
    });
    answered((&state, &user, id), done.map_err(AppError::from), |errors| Shown {
        answer_errors: errors,
        answer_form: (seq, f.answer, f.answered_on),
        ..Shown::default()
    })
    .await
}
