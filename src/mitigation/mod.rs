//! Mitigation: a catalogue of measure kinds, the measures of a case (owner, due date,
//! status proposed → agreed → implemented → verified, or rejected, or breached) and the
//! compliance checks that monitor them. A breach (a status change or a check that finds
//! one) reopens a monitored case for review and notifies the assignee and the supervisors.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, NewEvent};
use crate::auth::Actor;
use crate::cases::proceedings::may_work;
use crate::cases::service::visible;
use crate::cases::workflow::{Change, Facts, Input, Stage};
use crate::error::{DomainError, FieldError};
use crate::notifications::{self, Note};

/// A kind of measure from the catalogue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MeasureKind {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// The catalogue of measure kinds.
pub async fn kinds(conn: &mut PgConnection) -> Result<Vec<MeasureKind>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, name FROM ref_mitigation_kinds ORDER BY CASE code WHEN 'other' THEN 1 ELSE 0 END, name",
    )
    .fetch_all(conn)
    .await
}

/// Where a measure stands. The moves between statuses are [`MeasureStatus::may_move_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "measure_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    /// Offered by the parties or the office, not yet agreed.
    Proposed,
    /// Agreed as a condition of the determination.
    Agreed,
    /// The parties say it is in place.
    Implemented,
    /// A compliance check found it in place.
    Verified,
    /// Not accepted (with a reason).
    Rejected,
    /// Found not kept: the case is reopened for review.
    Breached,
}

impl MeasureStatus {
    /// Every status, in the order a measure goes through them.
    pub const ALL: [MeasureStatus; 6] = [
        MeasureStatus::Proposed,
        MeasureStatus::Agreed,
        MeasureStatus::Implemented,
        MeasureStatus::Verified,
        MeasureStatus::Rejected,
        MeasureStatus::Breached,
    ];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::Proposed => "proposed",
            MeasureStatus::Agreed => "agreed",
            MeasureStatus::Implemented => "implemented",
            MeasureStatus::Verified => "verified",
            MeasureStatus::Rejected => "rejected",
            MeasureStatus::Breached => "breached",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<MeasureStatus> {
        MeasureStatus::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    /// Whether a measure may go from this status to `to`.
    pub fn may_move_to(self, to: MeasureStatus) -> bool {
        use MeasureStatus::*;
        matches!(
            (self, to),
            (Proposed, Agreed)
                | (Proposed, Rejected)
                | (Agreed, Implemented)
                | (Implemented, Verified)
                | (Agreed | Implemented | Verified, Breached)
                // A cured breach is implemented again and must be verified anew.
                | (Breached, Implemented)
        )
    }

    /// The statuses this one may move to.
    pub fn next(self) -> Vec<MeasureStatus> {
        MeasureStatus::ALL.into_iter().filter(|to| self.may_move_to(*to)).collect()
    }

    /// Whether the measure was agreed (and so is kept, checked and can be breached).
    pub fn is_in_force(self) -> bool {
        matches!(self, MeasureStatus::Agreed | MeasureStatus::Implemented | MeasureStatus::Verified)
    }

    /// Whether compliance checks are recorded against it.
    pub fn takes_checks(self) -> bool {
        self.is_in_force() || self == MeasureStatus::Breached
    }
}

impl std::fmt::Display for MeasureStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measure.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Measure {
    /// Id.
    pub id: Uuid,
    /// Case.
    pub case_id: Uuid,
    /// Kind code.
    pub kind: String,
    /// What the measure requires.
    pub description: String,
    /// Who is responsible (a party or person).
    pub owner: String,
    /// Due.
    pub due_on: Option<Date>,
    /// Where it stands.
    pub status: MeasureStatus,
    /// The submission that proposed it.
    pub submission_id: Option<Uuid>,
    /// Version (send it back when changing the status).
    pub version: i32,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const MEASURE_SELECT: &str = "SELECT id, case_id, kind, description, owner, due_on, status, submission_id, version, updated_at FROM mitigation_measures";

/// The measures of a case.
pub async fn measures(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Measure>, sqlx::Error> {
    sqlx::query_as(&format!("{MEASURE_SELECT} WHERE case_id = $1 ORDER BY created_at, id"))
        .bind(case_id)
        .fetch_all(conn)
        .await
}

/// A new measure.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasure {
    /// Kind code (see `GET /api/v1/mitigation/kinds`).
    pub kind: String,
    /// What it requires.
    pub description: String,
    /// Who is responsible.
    pub owner: String,
    /// Due, YYYY-MM-DD.
    #[serde(default)]
    pub due_on: Option<String>,
    /// The submission that proposed it.
    #[serde(default)]
    pub submission_id: Option<Uuid>,
}

fn opt_date(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>) -> Option<Date> {
    v.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| {
        crate::cases::model::parse_date(s).or_else(|| {
            errors.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
            None
        })
    })
}

/// Records a proposed measure.
pub async fn add(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: Uuid,
    m: NewMeasure,
) -> Result<Measure, DomainError> {
    let mut errors = Vec::new();
    let d = m.description.trim().chars().count();
    if d == 0 || d > 20000 {
        errors.push(FieldError::new("description", "must be 1 to 20,000 characters"));
    }
    let o = m.owner.trim().chars().count();
    if o == 0 || o > 300 {
        errors.push(FieldError::new("owner", "must be 1 to 300 characters"));
    }
    let due = opt_date(&mut errors, "due_on", m.due_on.as_deref());
    let mut tx = conn.begin().await?;
    if !kinds(&mut tx).await?.iter().any(|k| k.code == m.kind.trim()) {
        errors.push(FieldError::new("kind", "is not a measure kind of the catalogue"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, &c)?;
    if !matches!(
        c.stage,
        Stage::InitialDetermination
            | Stage::ResponsePeriod
            | Stage::SecondInteragency
            | Stage::FinalDetermination
            | Stage::Monitoring
            | Stage::ComplianceReview
    ) {
        return Err(DomainError::Conflict(format!(
            "measures are negotiated from the initial determination on (the case is at {})",
            c.stage.label()
        )));
    }
    if let Some(s) = m.submission_id {
        let ok: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1 AND case_id = $2)")
                .bind(s)
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
        if !ok {
            return Err(DomainError::invalid("submission_id", "is not a submission of this case"));
        }
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO mitigation_measures (id, case_id, kind, description, owner, due_on, submission_id, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)",
    )
    .bind(id)
    .bind(case_id)
    .bind(m.kind.trim())
    .bind(m.description.trim())
    .bind(m.owner.trim())
    .bind(due)
    .bind(m.submission_id)
    .bind(user.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO measure_status_changes (id, measure_id, before, after, comment, actor, at) VALUES ($1,$2,NULL,'proposed','',$3,$4)")
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("measure.proposed").object("case", case_id).changes(json!({
        "measure": id, "kind": m.kind.trim(), "owner": m.owner.trim(), "due_on": due, "status": {"after": "proposed"},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Measure, DomainError> {
    sqlx::query_as(&format!("{MEASURE_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// New status.
    pub status: String,
    /// Why (required for rejected and breached).
    #[serde(default)]
    pub comment: String,
    /// The measure's version.
    pub version: i32,
}

/// Reopens a monitored case for review after a breach, inside the caller's transaction,
/// and notifies the assignee and the supervisors.
async fn breach(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: Uuid,
    what: &str,
    mail: bool,
) -> Result<(), DomainError> {
    let c = crate::cases::db::get(conn, case_id, true).await?.ok_or(DomainError::NotFound)?;
    if c.stage == Stage::Monitoring {
        let change = Change::Breach;
        let to =
            crate::cases::service::apply(conn, user, now, &c, change, &Facts::default(), &Input::default()).await?;
        let event = NewEvent::new("case.transition").object("case", case_id).changes(json!({
            "action": change.as_str(), "stage": {"before": c.stage, "after": to},
            "comment": format!("Reopened for review: {what}"),
        }));
        audit::record(conn, now, &user.audit(), event).await?;
    }
    let message = format!("{}: mitigation breach — {what}", c.docket_number);
    let link = format!("/cases/{case_id}/proceedings");
    let note = Note::on_case(notifications::Kind::Breach, case_id, &message, &link);
    if let Some(a) = c.assignee {
        notifications::notify(conn, now, mail, a, &note).await?;
    }
    notifications::notify_supervisors(conn, now, mail, c.assignee, &note).await?;
    Ok(())
}

/// Moves a measure (locked by the caller) to `to`: the row, its history, the audit event
/// (with `extra` facts) and, for a breach, the reopening of the case (`what` says why).
#[allow(clippy::too_many_arguments)]
async fn move_status(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    m: &Measure,
    to: MeasureStatus,
    comment: &str,
    extra: Value,
    what: &str,
    mail: bool,
) -> Result<(), DomainError> {
    sqlx::query("UPDATE mitigation_measures SET status = $2::measure_status, updated_at = $3, version = version + 1 WHERE id = $1")
        .bind(m.id)
        .bind(to)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO measure_status_changes (id, measure_id, before, after, comment, actor, at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(Uuid::now_v7())
    .bind(m.id)
    .bind(m.status)
    .bind(to)
    .bind(comment)
    .bind(user.id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let mut changes = json!({"measure": m.id, "status": {"before": m.status, "after": to}, "comment": comment});
    if let (Some(c), Value::Object(x)) = (changes.as_object_mut(), extra) {
        c.extend(x);
    }
    audit::record(
        &mut *conn,
        now,
        &user.audit(),
        NewEvent::new("measure.status").object("case", m.case_id).changes(changes),
    )
    .await?;
    if to == MeasureStatus::Breached {
        breach(conn, user, now, m.case_id, what, mail).await?;
    }
    Ok(())
}

/// Moves a measure to a new status. Agreeing and verifying are for supervisors or the
/// assigned analyst; a breach reopens the case.
pub async fn set_status(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: Uuid,
    s: StatusChange,
    mail: bool,
) -> Result<Measure, DomainError> {
    let Some(to) = MeasureStatus::parse(&s.status) else {
        let names: Vec<&str> = MeasureStatus::ALL.iter().map(|m| m.as_str()).collect();
        return Err(DomainError::invalid("status", format!("must be one of {}", names.join(", "))));
    };
    if matches!(to, MeasureStatus::Rejected | MeasureStatus::Breached) && s.comment.trim().is_empty() {
        return Err(DomainError::invalid("comment", "say why"));
    }
    if s.comment.chars().count() > 20000 {
        return Err(DomainError::invalid("comment", "must be at most 20,000 characters"));
    }
    let mut tx = conn.begin().await?;
    let m: Measure = sqlx::query_as(&format!("{MEASURE_SELECT} WHERE id = $1 FOR UPDATE"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, m.case_id, false).await?;
    may_work(user, &c)?;
    if m.version != s.version {
        return Err(DomainError::Conflict("the measure changed since you opened it; nothing was saved".into()));
    }
    if !m.status.may_move_to(to) {
        return Err(DomainError::Conflict(format!("a measure does not go from {} to {to}", m.status)));
    }
    let what = format!("{} ({})", m.description.chars().take(120).collect::<String>(), s.comment.trim());
    move_status(&mut tx, user, now, &m, to, s.comment.trim(), json!({}), &what, mail).await?;
    let row = get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// A compliance check.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Check {
    /// Id.
    pub id: Uuid,
    /// Measure.
    pub measure_id: Uuid,
    /// Checked on.
    pub checked_on: Date,
    /// `compliant`, `deficient` or `breach`.
    pub result: String,
    /// Finding.
    pub finding: String,
    /// Evidence.
    pub document_id: Option<Uuid>,
    /// Recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A new compliance check.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// YYYY-MM-DD.
    pub checked_on: String,
    /// `compliant`, `deficient` or `breach`.
    pub result: String,
    /// What was found.
    pub finding: String,
    /// A document of the case as evidence.
    #[serde(default)]
    pub document_id: Option<Uuid>,
}

/// The checks of a case's measures.
pub async fn checks(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Check>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.id, k.measure_id, k.checked_on, k.result, k.finding, k.document_id, k.created_at FROM compliance_checks k \
         JOIN mitigation_measures m ON m.id = k.measure_id WHERE m.case_id = $1 ORDER BY k.checked_on, k.created_at",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
}

/// Records a compliance check; a `breach` result marks the measure breached and reopens
/// the case.
pub async fn add_check(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    measure_id: Uuid,
    k: NewCheck,
    mail: bool,
) -> Result<Check, DomainError> {
    let mut errors = Vec::new();
    let result = k.result.trim();
    if !matches!(result, "compliant" | "deficient" | "breach") {
        errors.push(FieldError::new("result", "must be compliant, deficient or breach"));
    }
    let on = opt_date(&mut errors, "checked_on", Some(&k.checked_on));
    if on.is_none() && !errors.iter().any(|e| e.field == "checked_on") {
        errors.push(FieldError::new("checked_on", "is required"));
    }
    if on.is_some_and(|d| d > now.date()) {
        errors.push(FieldError::new("checked_on", "cannot be in the future"));
    }
    let n = k.finding.trim().chars().count();
    if n == 0 || n > 20000 {
        errors.push(FieldError::new("finding", "must be 1 to 20,000 characters"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let m: Measure = sqlx::query_as(&format!("{MEASURE_SELECT} WHERE id = $1 FOR UPDATE"))
        .bind(measure_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, m.case_id, false).await?;
    may_work(user, &c)?;
    if !m.status.takes_checks() {
        return Err(DomainError::Conflict("compliance is checked on agreed measures".into()));
    }
    if let Some(doc) = k.document_id {
        let ok: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1 AND case_id = $2)")
            .bind(doc)
            .bind(m.case_id)
            .fetch_one(&mut *tx)
            .await?;
        if !ok {
            return Err(DomainError::invalid("document_id", "is not a document of this case"));
        }
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO compliance_checks (id, measure_id, checked_on, result, finding, document_id, checked_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(id)
    .bind(measure_id)
    .bind(on)
    .bind(result)
    .bind(k.finding.trim())
    .bind(k.document_id)
    .bind(user.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new("measure.checked").object("case", m.case_id).changes(json!({
        "measure": measure_id, "check": id, "result": result, "checked_on": on, "document": k.document_id,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    if result == "breach" && m.status != MeasureStatus::Breached {
        let what = format!(
            "compliance check on {}: {}",
            on.map(|d| d.to_string()).unwrap_or_default(),
            k.finding.trim().chars().take(160).collect::<String>()
        );
        move_status(
            &mut tx,
            user,
            now,
            &m,
            MeasureStatus::Breached,
            k.finding.trim(),
            json!({"check": id}),
            &what,
            mail,
        )
        .await?;
    }
    let row: Check = sqlx::query_as(
        "SELECT id, measure_id, checked_on, result, finding, document_id, created_at FROM compliance_checks WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::MeasureStatus::{self, *};

    #[test]
    fn measure_statuses_move_forward_and_breaches_come_from_agreed_states() {
        assert!(Proposed.may_move_to(Agreed));
        assert!(Agreed.may_move_to(Implemented));
        assert!(Implemented.may_move_to(Verified));
        assert!(Verified.may_move_to(Breached));
        assert!(Proposed.may_move_to(Rejected));
        assert!(!Proposed.may_move_to(Verified));
        assert!(!Proposed.may_move_to(Breached));
        assert!(!Rejected.may_move_to(Agreed));
        assert!(!Verified.may_move_to(Proposed));
    }

    /// Every pair of statuses: exactly these seven moves exist.
    #[test]
    fn the_whole_table_of_moves() {
        let allowed = [
            (Proposed, Agreed),
            (Proposed, Rejected),
            (Agreed, Implemented),
            (Implemented, Verified),
            (Agreed, Breached),
            (Implemented, Breached),
            (Verified, Breached),
            (Breached, Implemented),
        ];
        for from in MeasureStatus::ALL {
            for to in MeasureStatus::ALL {
                assert_eq!(from.may_move_to(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
            assert_eq!(MeasureStatus::parse(from.as_str()), Some(from));
        }
        assert_eq!(MeasureStatus::parse("cancelled"), None);
    }
}
