//! The ICTS transactions a case reviews (one or more; a class of transactions, or similar
//! reviews consolidated into one case).

use crate::ids::{CaseId, PartyId, TransactionId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::{Date, OffsetDateTime};

use super::db::transactions as db;
use super::service;

pub use super::db::transactions::of_case;
use super::workflow::{Change, Facts, Input};
use crate::access::Actor;
use crate::access::policy::{Action, CaseWork, case_work};
use crate::audit::{self, EventType, NewEvent};
use crate::choice::Choice;
use crate::dates::parse_date;
use crate::error::{DomainError, FieldError};
use crate::parties::PartyRole;

/// The kinds of ICTS transaction in the rule's definition, stored, sent and shown by
/// their lower-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// The ICTS is acquired.
    Acquisition,
    /// The ICTS is imported.
    Importation,
    /// The ICTS is transferred.
    Transfer,
    /// The ICTS is installed.
    Installation,
    /// The ICTS is dealt in.
    Dealing,
    /// The ICTS is used.
    Use,
}

impl TransactionKind {
    /// Every kind, in the rule's order.
    pub const ALL: [TransactionKind; 6] = [
        TransactionKind::Acquisition,
        TransactionKind::Importation,
        TransactionKind::Transfer,
        TransactionKind::Installation,
        TransactionKind::Dealing,
        TransactionKind::Use,
    ];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Acquisition => "acquisition",
            TransactionKind::Importation => "importation",
            TransactionKind::Transfer => "transfer",
            TransactionKind::Installation => "installation",
            TransactionKind::Dealing => "dealing",
            TransactionKind::Use => "use",
        }
    }

    /// The kind named `s`, if any.
    pub fn parse(s: &str) -> Option<TransactionKind> {
        TransactionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a transaction stands, stored, sent and shown by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Not yet completed.
    Pending,
    /// Completed.
    Completed,
    /// Continuing (updates, managed services, hosting).
    Ongoing,
}

impl TransactionStatus {
    /// Every status.
    pub const ALL: [TransactionStatus; 3] =
        [TransactionStatus::Pending, TransactionStatus::Completed, TransactionStatus::Ongoing];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "pending",
            TransactionStatus::Completed => "completed",
            TransactionStatus::Ongoing => "ongoing",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<TransactionStatus> {
        TransactionStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A transaction.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Transaction {
    pub id: TransactionId,
    /// The case reviewing it.
    pub case_id: CaseId,
    /// The ICTS item or service.
    pub item: String,
    /// Acquisition, importation, transfer, installation, dealing or use.
    pub kind: TransactionKind,
    /// Pending, completed or ongoing.
    pub status: TransactionStatus,
    /// Initiated.
    pub initiated_on: Option<Date>,
    /// Completed.
    pub completed_on: Option<Date>,
    /// Ongoing activity (updates, managed services, hosting).
    pub ongoing_activity: String,
    /// Value in US dollars.
    #[schema(value_type = Option<f64>)]
    pub value_usd: Option<f64>,
    pub us_persons_affected: Option<i64>,
    /// Sensitive-personal-data categories involved.
    pub data_categories: Vec<String>,
}

/// A party of a transaction in the input.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionPartyInput {
    pub party_id: PartyId,
    #[schema(value_type = PartyRole)]
    pub role: Choice<PartyRole>,
}

/// New transaction.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionInput {
    /// The ICTS item or service.
    #[schema(value_type = crate::text::Text<{ crate::cases::transactions::ITEM_MAX }>, inline)]
    pub item: String,
    /// What kind of transaction it is.
    #[schema(value_type = TransactionKind)]
    pub kind: Choice<TransactionKind>,
    /// Where it stands.
    #[schema(value_type = TransactionStatus)]
    pub status: Choice<TransactionStatus>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub initiated_on: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub completed_on: Option<String>,
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub ongoing_activity: String,
    /// Value in US dollars.
    #[serde(default)]
    pub value_usd: Option<f64>,
    #[serde(default)]
    pub us_persons_affected: Option<i64>,
    /// Sensitive-data category codes.
    #[serde(default)]
    #[schema(value_type = crate::text::Texts<{ crate::text::CODE }, { crate::text::CODES }>, inline)]
    pub data_categories: Vec<String>,
    /// Parties and their roles.
    #[serde(default)]
    pub parties: Vec<TransactionPartyInput>,
}

/// Validated transaction input.
#[derive(Debug, Clone)]
pub struct ValidTransaction {
    pub item: String,
    pub kind: TransactionKind,
    pub status: TransactionStatus,
    /// Initiated.
    pub initiated_on: Option<Date>,
    /// Completed.
    pub completed_on: Option<Date>,
    pub ongoing_activity: String,
    /// Value.
    pub value_usd: Option<f64>,
    /// US persons.
    pub us_persons_affected: Option<i64>,
    pub data_categories: Vec<String>,
    pub parties: Vec<(PartyId, PartyRole)>,
}

/// The longest name of a transaction's item, in characters.
pub const ITEM_MAX: usize = 500;

impl TransactionInput {
    /// Validates (data categories against `known_data`), naming every bad field.
    pub fn parse(&self, known_data: &[String]) -> Result<ValidTransaction, Vec<FieldError>> {
        let mut e = Vec::new();
        let item = self.item.trim().to_string();
        if item.is_empty() || item.chars().count() > ITEM_MAX {
            e.push(FieldError::new("item", "is required: name it in 1 to 500 characters"));
        }
        e.extend(crate::text::check("ongoing_activity", &self.ongoing_activity, crate::text::LINE));
        let kind = self.kind.or_error(
            "kind",
            "must be acquisition, importation, transfer, installation, dealing or use",
            &mut e,
        );
        let status = self.status.or_error("status", "must be pending, completed or ongoing", &mut e);
        let mut date =
            |field: &'static str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => parse_date(s).or_else(|| {
                    e.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
                    None
                }),
                None => None,
            };
        let initiated_on = date("initiated_on", &self.initiated_on);
        let completed_on = date("completed_on", &self.completed_on);
        if let (Some(i), Some(c)) = (initiated_on, completed_on)
            && c < i
        {
            e.push(FieldError::new("completed_on", "cannot be before the initiation date"));
        }
        if self.value_usd.is_some_and(|v| !(0.0..=1e15).contains(&v) || !v.is_finite()) {
            e.push(FieldError::new("value_usd", "must be a non-negative amount"));
        }
        if self.us_persons_affected.is_some_and(|v| v < 0) {
            e.push(FieldError::new("us_persons_affected", "must not be negative"));
        }
        if self.data_categories.len() > crate::text::CODES {
            e.push(FieldError::new("data_categories", format!("list at most {}", crate::text::CODES)));
        } else if let Some(bad) = self.data_categories.iter().find(|d| !known_data.contains(d)) {
            e.push(FieldError::new("data_categories", format!("{bad} is not a sensitive-data category code")));
        }
        let mut parties = Vec::new();
        for p in &self.parties {
            match p.role.known() {
                Some(r) => parties.push((p.party_id, r)),
                None => e.push(FieldError::new(
                    "parties",
                    format!("role {:?} must be supplier, us_counterparty, owner or intermediary", p.role.as_text()),
                )),
            }
        }
        if let (true, Some(kind), Some(status)) = (e.is_empty(), kind, status) {
            Ok(ValidTransaction {
                item,
                kind,
                status,
                initiated_on,
                completed_on,
                ongoing_activity: self.ongoing_activity.trim().to_string(),
                value_usd: self.value_usd,
                us_persons_affected: self.us_persons_affected,
                data_categories: self.data_categories.clone(),
                parties,
            })
        } else {
            Err(e)
        }
    }
}

/// Inserts a transaction and its parties (the caller checks access and audits).
pub async fn insert(
    conn: &mut PgConnection,
    case_id: CaseId,
    t: &ValidTransaction,
    user: UserId,
    now: time::OffsetDateTime,
) -> Result<TransactionId, DomainError> {
    let id = TransactionId::new();
    db::insert(&mut *conn, (id, case_id), t, user, now).await?;
    for (party, role) in &t.parties {
        if !db::party_exists(&mut *conn, *party).await? {
            return Err(DomainError::invalid("parties", format!("party {party} does not exist")));
        }
        db::add_party(&mut *conn, id, *party, *role).await?;
        // The case lists every party of its transactions.
        super::db::link_party(&mut *conn, case_id, *party, *role, user, now).await?;
    }
    Ok(id)
}

/// Records a transaction on a case.
pub async fn create(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    t: ValidTransaction,
) -> Result<TransactionId, DomainError> {
    if !user.may(Action::WorkCases) {
        return Err(DomainError::Forbidden);
    }
    let mut tx = conn.begin().await?;
    let c = service::visible(&mut tx, user, case_id, true).await?;
    if case_work(user.role, user.id, c.assignee) != CaseWork::Allowed {
        return Err(DomainError::Forbidden);
    }
    let id = insert(&mut tx, case_id, &t, user.id, now).await?;
    let event = NewEvent::new(EventType::CaseTransactionAdded).object("case", case_id).changes(json!({
        "transaction": id, "item": t.item, "kind": t.kind, "status": t.status,
        "parties": t.parties.iter().map(|(p, r)| json!({"party": p, "role": r})).collect::<Vec<_>>(),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Consolidates `source` into `target` (supervisors): the source's transactions move to
/// the target, its parties are linked to the target too, and the source is closed with a
/// pointer to the target. Both cases get an audit event; nothing is deleted.
pub async fn consolidate(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    target: CaseId,
    source: CaseId,
) -> Result<usize, DomainError> {
    if !user.may(Action::ConsolidateCases) {
        return Err(DomainError::Forbidden);
    }
    if target == source {
        return Err(DomainError::invalid("from", "a case cannot be consolidated into itself"));
    }
    let mut tx = conn.begin().await?;
    // Lock both in a fixed order so two opposite consolidations cannot deadlock.
    let (first, second) = if target < source { (target, source) } else { (source, target) };
    let a = service::visible(&mut tx, user, first, true).await?;
    let b = service::visible(&mut tx, user, second, true).await?;
    let (t, s) = if a.id == target { (a, b) } else { (b, a) };
    if !t.stage.is_open() {
        return Err(DomainError::Conflict(format!("{} is no longer open for review", t.docket_number)));
    }
    if !s.stage.is_open() {
        return Err(DomainError::Conflict(format!("{} is already closed or decided", s.docket_number)));
    }
    let moved = db::move_all(&mut tx, source, target).await?;
    db::copy_case_parties(&mut tx, source, target, user.id, now).await?;
    let closed =
        service::apply(&mut tx, user, now, &s, Change::Consolidated, &Facts::default(), &Input::default()).await?;
    db::set_consolidated_into(&mut tx, source, target).await?;
    super::db::touch(&mut tx, target, now).await?;
    let ctx = user.audit();
    audit::record(
        &mut tx,
        now,
        &ctx,
        NewEvent::new(EventType::CaseConsolidatedInto).object("case", source).changes(json!({
            "into": target, "into_docket": t.docket_number, "transactions_moved": moved,
            "stage": {"before": s.stage, "after": closed},
        })),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &ctx,
        NewEvent::new(EventType::CaseConsolidatedFrom)
            .object("case", target)
            .changes(json!({"from": source, "from_docket": s.docket_number, "transactions_moved": moved})),
    )
    .await?;
    tx.commit().await?;
    Ok(moved as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_input_names_every_bad_field() {
        let t = TransactionInput {
            item: "".into(),
            kind: Choice::named("theft"),
            status: Choice::named("maybe"),
            initiated_on: Some("2024-05-01".into()),
            completed_on: Some("2024-04-01".into()),
            value_usd: Some(-1.0),
            data_categories: vec!["horoscope".into()],
            ..TransactionInput::default()
        };
        let fields: Vec<String> = t.parse(&["health".into()]).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["item", "kind", "status", "completed_on", "value_usd", "data_categories"]);
    }
}
