//! `icts-review seed --synthetic --cases N --events M [--declarations K]`: a large, realistic office for
//! measuring the service at scale, loaded with `COPY` in one transaction (all or nothing)
//! with a progress bar.
//!
//! Cases in every stage (weighted like a working office), covered categories and
//! adversaries from the reference data, supplier parties owned by parent companies in
//! adversary countries, notes, risk assessments scored with the real rubric, signed final
//! determinations (four-eyes, fresh re-authentication, content hashes — through the same
//! database guard as the service), and `M` audit events forming a valid hash chain: each
//! case's lifecycle events, then reads and sign-ins up to the requested count. With
//! `--declarations K`, the second docket: connected-vehicle manufacturers and VCS hardware
//! importers in their filer roles and K Declarations of Conformity (one in force per filer,
//! kind and year; some amended), each with its history and `declaration.filed` event
//! appended to the chain. The data is deterministic for given N, M and K.

use crate::ids::UserId;
use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{EventType, StoredEvent, recompute_hash};
use crate::cases::workflow::{RuleVersion, Stage};
use crate::determinations::{Signed, content_hash};

/// What was loaded.
#[derive(Debug, Default)]
pub struct Summary {
    /// Users created.
    pub users: usize,
    pub parties: u64,
    pub cases: u64,
    pub notes: u64,
    pub assessments: u64,
    /// Signed determinations.
    pub determinations: u64,
    /// Audit events.
    pub events: u64,
    /// Connected-vehicle filers (manufacturers and importers) and their declarations.
    pub filers: u64,
    pub declarations: u64,
}

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn uuid(&mut self, at: OffsetDateTime) -> Uuid {
        let ms = (at.unix_timestamp_nanos() / 1_000_000) as u64;
        let r = ((self.next() as u128) << 64) | self.next() as u128;
        let v = ((ms as u128) << 80) | (0x7u128 << 76) | (r & ((1u128 << 76) - 1));
        let v = (v & !(0b11u128 << 62)) | (0b10u128 << 62);
        Uuid::from_u128(v)
    }
}

const ITEMS: [&str; 12] = [
    "Customer-premises routers with remote management",
    "Cellular IoT modules in utility meters",
    "Fleet telematics units",
    "Port crane control software",
    "Cloud hosting of patient genomic data",
    "Drone flight-control firmware",
    "Video surveillance cameras",
    "Mobile core network equipment",
    "Anti-virus software with kernel access",
    "Satellite ground-station software",
    "Smart-grid inverters",
    "Consumer messaging application",
];
const REGIONS: [&str; 6] = ["Northeast", "Midwest", "Gulf Coast", "Pacific", "Mountain West", "Mid-Atlantic"];

/// Stage weights out of 100, like a working office.
const STAGES: [(Stage, u64); 14] = [
    (Stage::Intake, 8),
    (Stage::AwaitingInformation, 2),
    (Stage::Rejected, 5),
    (Stage::InitialReview, 20),
    (Stage::ClosedNoAction, 8),
    (Stage::FirstInteragency, 6),
    (Stage::InitialDetermination, 5),
    (Stage::ResponsePeriod, 4),
    (Stage::SecondInteragency, 3),
    (Stage::FinalDetermination, 3),
    (Stage::Decided, 19),
    (Stage::Monitoring, 12),
    (Stage::ComplianceReview, 1),
    (Stage::Closed, 4),
];

fn depth(s: Stage) -> u8 {
    match s {
        Stage::Intake | Stage::AwaitingInformation | Stage::Rejected => 0,
        Stage::InitialReview | Stage::ClosedNoAction => 1,
        Stage::FirstInteragency => 2,
        Stage::InitialDetermination => 3,
        Stage::ResponsePeriod => 4,
        Stage::SecondInteragency => 5,
        Stage::FinalDetermination => 6,
        Stage::Decided | Stage::Monitoring | Stage::ComplianceReview | Stage::Closed => 7,
    }
}

/// CSV cell helpers for COPY ... (FORMAT csv): NULL is an unquoted empty field.
struct Row(Vec<u8>);

impl Row {
    fn new() -> Row {
        Row(Vec::with_capacity(512))
    }
    fn sep(&mut self) {
        if !self.0.is_empty() {
            self.0.push(b',');
        }
    }
    fn null(&mut self) -> &mut Self {
        self.sep();
        self
    }
    fn raw(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.0.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                self.0.push(b'"');
            }
            self.0.push(b);
        }
        self.0.push(b'"');
        self
    }
    fn opt<T: ToString>(&mut self, v: Option<T>) -> &mut Self {
        match v {
            Some(x) => self.text(&x.to_string()),
            None => self.null(),
        }
    }
    fn ts(&mut self, t: OffsetDateTime) -> &mut Self {
        self.raw(&t.format(&time::format_description::well_known::Rfc3339).expect("UTC"))
    }
    fn end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
        out.push(b'\n');
        self.0.clear();
    }
}

/// Sends `buf` to a COPY when it is large (or when `last`).
async fn flush(conn: &mut PgConnection, copy_sql: &str, buf: &mut Vec<u8>, last: bool) -> Result<(), sqlx::Error> {
    if buf.is_empty() || (!last && buf.len() < 8 << 20) {
        return Ok(());
    }
    #[expect(clippy::disallowed_methods, reason = "COPY, which no macro checks; `copy_sql` is a constant of this file")]
    let mut copy = conn.copy_in_raw(copy_sql).await?;
    copy.send(std::mem::take(buf)).await?;
    copy.finish().await?;
    Ok(())
}

fn bar(len: u64, what: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    b.set_message(what.to_string());
    b
}

/// Loads a synthetic office of `cases` cases and `events` audit events, and of the second
/// docket `declarations` Declarations of Conformity, into an empty database.
pub async fn load(
    pool: &PgPool,
    cases: u64,
    events: u64,
    declarations: u64,
    progress: bool,
) -> anyhow::Result<Summary> {
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM cases"#).fetch_one(pool).await?;
    anyhow::ensure!(
        existing == 0,
        "the database already holds {existing} case(s); --synthetic fills only an empty office"
    );
    anyhow::ensure!(cases >= 1 && events >= cases, "give --cases of at least 1 and --events of at least --cases");
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let mut summary = Summary::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ cases.wrapping_mul(31) ^ events);

    // People (real accounts with random passwords that must be changed; nobody signs in
    // as them unless an administrator resets one).
    let mut analysts = Vec::new();
    let mut supervisors = Vec::new();
    for (role, n) in [("analyst", 40), ("supervisor", 8), ("auditor", 3)] {
        for i in 0..n {
            let mut pw = [0u8; 18];
            getrandom::fill(&mut pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            let input = crate::accounts::model::NewUser::parse(
                &format!("{role}{i}@synthetic.icts.example"),
                &format!("Synthetic {role} {i}"),
                role,
                &base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, pw),
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let u = crate::accounts::service::create_user(pool, now, &Default::default(), input, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match role {
                "analyst" => analysts.push(u.id),
                "supervisor" => supervisors.push(u.id),
                _ => {}
            }
            summary.users += 1;
        }
    }
    let categories: Vec<(String, bool)> =
        sqlx::query!("SELECT code, connected_software FROM ref_categories ORDER BY code")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.code, r.connected_software))
            .collect();
    let adversaries: Vec<String> =
        sqlx::query_scalar!("SELECT code FROM ref_adversaries ORDER BY code").fetch_all(pool).await?;
    let agencies: Vec<String> =
        sqlx::query_scalar!("SELECT code FROM ref_agencies ORDER BY code").fetch_all(pool).await?;
    let rubric = crate::risk::model::version_one();
    let rubric_version: i32 =
        sqlx::query_scalar!(r#"SELECT max(version) AS "v!" FROM rubric_versions"#).fetch_one(pool).await?;

    // Scored assessment profiles (the real rubric), by connected-software flag and level.
    let mut profiles: BTreeMap<(bool, u8), (Value, Value, f64, &'static str)> = BTreeMap::new();
    for cs in [false, true] {
        for level in 1..=4u8 {
            let scores: BTreeMap<String, u8> = rubric
                .applicable(cs)
                .enumerate()
                .map(|(i, c)| (c.code.clone(), level.saturating_sub((i % 2) as u8)))
                .collect();
            let s = crate::risk::model::score(&rubric, cs, &scores).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let with_reasons: BTreeMap<&String, Value> = scores
                .iter()
                .map(|(k, v)| {
                    (k, json!({"score": v, "rationale": format!("Scored {v} on the evidence in the case file.")}))
                })
                .collect();
            profiles.insert(
                (cs, level),
                (json!(with_reasons), serde_json::to_value(&s.contributions)?, s.composite, s.band.as_str()),
            );
        }
    }

    let mut tx = pool.begin().await?;
    sqlx::query!("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;

    // Parties: parent companies in adversary countries, and suppliers they own.
    let parents_n = (cases / 40).max(5);
    let suppliers_n = (cases / 4).max(10);
    let mut parents = Vec::with_capacity(parents_n as usize);
    let mut suppliers: Vec<(Uuid, String)> = Vec::with_capacity(suppliers_n as usize);
    let copy_parties = "COPY parties (id, legal_name, kind, country, parent_id, ownership_pct, created_at, updated_at) FROM STDIN (FORMAT csv)";
    let b = bar(parents_n + suppliers_n, "parties", progress);
    let mut buf = Vec::new();
    let mut row = Row::new();
    let start = OffsetDateTime::new_utc(time::macros::date!(2021 - 01 - 20), time::macros::time!(09:00));
    let country = |a: &str| if a == "VE" { "VE".to_string() } else { a.to_string() };
    for i in 0..parents_n {
        let id = rng.uuid(start);
        let adv = rng.pick(&adversaries).clone();
        row.text(&id.to_string())
            .text(&format!("Holding Group {i} Co., Ltd."))
            .raw("company")
            .text(&country(&adv))
            .null()
            .null()
            .ts(start)
            .ts(start);
        row.end(&mut buf);
        parents.push((id, adv));
        b.inc(1);
    }
    flush(&mut tx, copy_parties, &mut buf, true).await?;
    for i in 0..suppliers_n {
        let id = rng.uuid(start);
        let (parent, adv) = rng.pick(&parents).clone();
        let name =
            format!("{} Technology {i} Ltd.", ["Lianhe", "Xinda", "Volga", "Neva", "Pars", "Taedong"][i as usize % 6]);
        row.text(&id.to_string())
            .text(&name)
            .raw("company")
            .text(&country(&adv))
            .text(&parent.to_string())
            .raw(&format!("{}", 51 + rng.below(49)))
            .ts(start)
            .ts(start);
        row.end(&mut buf);
        suppliers.push((id, adv));
        b.inc(1);
        flush(&mut tx, copy_parties, &mut buf, false).await?;
    }
    flush(&mut tx, copy_parties, &mut buf, true).await?;
    b.finish_and_clear();
    summary.parties = parents_n + suppliers_n;

    // Cases, their parties, notes, assessments and determinations; the audit chain.
    let span = (now - start).whole_seconds().max(1);
    let copy_cases = "COPY cases (id, docket_number, title, summary, origin, referring_agency, referral_date, category, adversaries, \
        rule_version, restricted, assignee, stage, covered, covered_note, nexus, nexus_note, undue_risk, undue_risk_note, accepted_on, \
        agencies_notified_on, initial_signed_by, initial_signed_at, served_on, response_received_on, circulated_on, final_decision, \
        final_signed_by, final_signed_at, decided_on, final_due, response_due, created_by, created_at, updated_at, version) FROM STDIN (FORMAT csv)";
    let copy_links = "COPY case_parties (case_id, party_id, role, added_by, added_at) FROM STDIN (FORMAT csv)";
    let copy_notes = "COPY case_notes (id, case_id, author, body, created_at) FROM STDIN (FORMAT csv)";
    let copy_assess = "COPY assessments (id, case_id, rubric_version, connected_software, scores, contributions, composite, band, narrative, author, created_at) FROM STDIN (FORMAT csv)";
    let copy_dets = "COPY determinations (id, case_id, kind, outcome, revision, content, assessment_id, unclassified_confirmed, drafted_by, created_at, updated_at) FROM STDIN (FORMAT csv)";
    let copy_events = "COPY audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type, object_type, object_id, changes, outcome, prev_hash, hash) FROM STDIN (FORMAT csv)";
    let (mut cbuf, mut lbuf, mut nbuf, mut abuf, mut dbuf, mut ebuf) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut signatures: Vec<u8> = Vec::new();
    let (mut seq, mut prev): (i64, Vec<u8>) = {
        let h = sqlx::query!("SELECT seq, hash FROM audit_head WHERE singleton FOR UPDATE").fetch_one(&mut *tx).await?;
        (h.seq, h.hash)
    };
    let per_case = events / cases;
    let mut extra = events % cases;
    let mut dockets: BTreeMap<i32, u32> = BTreeMap::new();
    let b = bar(cases, "cases", progress);
    let total_weight: u64 = STAGES.iter().map(|s| s.1).sum();
    let mut ev_row = Row::new();
    let mut push_event = |ebuf: &mut Vec<u8>,
                          seq: &mut i64,
                          prev: &mut Vec<u8>,
                          rng: &mut Rng,
                          at: OffsetDateTime,
                          actor: UserId,
                          role: &str,
                          kind: EventType,
                          object: (&str, String),
                          changes: Value| {
        *seq += 1;
        let mut e = StoredEvent {
            seq: *seq,
            id: crate::ids::EventId(rng.uuid(at)),
            at,
            actor_id: Some(actor),
            actor_role: Some(role.to_string()),
            client_addr: Some(format!("10.20.{}.{}", rng.below(250), rng.below(250))),
            request_id: Some(format!("syn-{}", *seq)),
            event_type: kind.as_str().to_string(),
            object_type: Some(object.0.to_string()),
            object_id: Some(object.1),
            changes,
            outcome: "success".into(),
            prev_hash: std::mem::take(prev),
            hash: Vec::new(),
        };
        e.hash = recompute_hash(&e).to_vec();
        ev_row
            .raw(&e.seq.to_string())
            .text(&e.id.to_string())
            .ts(e.at)
            .text(&actor.to_string())
            .text(role)
            .text(e.client_addr.as_deref().unwrap_or(""))
            .text(e.request_id.as_deref().unwrap_or(""))
            .text(&e.event_type)
            .text(object.0)
            .text(e.object_id.as_deref().unwrap_or(""))
            .text(&e.changes.to_string())
            .raw("success")
            .raw(&format!("\\x{}", hex::encode(&e.prev_hash)))
            .raw(&format!("\\x{}", hex::encode(&e.hash)));
        ev_row.end(ebuf);
        *prev = e.hash;
    };
    for i in 0..cases {
        let created = start + Duration::seconds((span as i128 * i as i128 / cases as i128) as i64);
        // Recent cases cannot have gone far yet.
        let mut stage = {
            let mut w = rng.below(total_weight);
            let mut s = Stage::Intake;
            for (st, weight) in STAGES {
                if w < weight {
                    s = st;
                    break;
                }
                w -= weight;
            }
            s
        };
        let age_days = (now - created).whole_days();
        if age_days < 60 && depth(stage) > 2 {
            stage = Stage::InitialReview;
        }
        let d = depth(stage);
        let id = rng.uuid(created);
        let year = created.year();
        let n = dockets.entry(year).or_insert(0);
        *n += 1;
        let docket = format!("ICTS-{year}-{:03}", *n);
        let (category, cs) = rng.pick(&categories).clone();
        let (supplier, adv) = rng.pick(&suppliers).clone();
        let analyst = *rng.pick(&analysts);
        let supervisor = *rng.pick(&supervisors);
        let signer = *supervisors.iter().find(|s| **s != supervisor).unwrap_or(&supervisor);
        let origin = ["agency_referral", "own_initiative", "submitted_information"][rng.below(3) as usize];
        let agency = (origin == "agency_referral").then(|| rng.pick(&agencies).clone());
        let day = |t: OffsetDateTime, plus: i64| -> Date { (t + Duration::days(plus)).date() };
        let accepted = (d >= 1).then(|| day(created, 20));
        let rule = accepted.map(RuleVersion::in_force_on);
        let notified = (d >= 2).then(|| day(created, 60));
        let initial_signed = (d >= 4).then(|| created + Duration::days(110));
        let served = (d >= 4).then(|| day(created, 120));
        let responded = (d >= 5).then(|| day(created, 140));
        let circulated = (d >= 5).then(|| day(created, 170));
        let decision = match stage {
            Stage::Decided => Some(if rng.below(3) == 0 { "not_prohibited" } else { "prohibited" }),
            Stage::Monitoring | Stage::ComplianceReview => Some("permitted_with_mitigation"),
            Stage::Closed => Some("prohibited"),
            _ => None,
        };
        let final_signed = decision.map(|_| created + Duration::days(200));
        let decided = decision.map(|_| day(created, 201));
        let final_due = if stage.is_open() {
            match (rule, accepted, served) {
                (Some(RuleVersion::Ifr2021), Some(a), _) => Some(a + Duration::days(180)),
                (Some(RuleVersion::Final2025), _, Some(s)) => Some(s + Duration::days(180)),
                _ => None,
            }
        } else {
            None
        };
        let response_due = (stage == Stage::ResponsePeriod).then(|| served.map(|s| s + Duration::days(30))).flatten();
        let answered = d >= 2;
        let title = format!("{} ({})", rng.pick(&ITEMS), rng.pick(&REGIONS));
        let last_change =
            final_signed.or(initial_signed).unwrap_or(created + Duration::days(if d >= 1 { 20 } else { 0 }));
        let r = &mut row;
        r.text(&id.to_string()).text(&docket).text(&title)
            .text(&format!("Synthetic review {i}: ICTS supplied by a party owned from {adv}; updates and remote servicing from abroad."))
            .raw(origin).opt(agency.clone()).opt(agency.as_ref().map(|_| created.date())).text(&category).text(&format!("{{{adv}}}"))
            .opt(rule.map(|r| r.code())).raw(if rng.below(20) == 0 { "true" } else { "false" }).text(&analyst.to_string()).raw(stage.as_str())
            .opt(answered.then_some("yes")).text(if answered { "ICTS used by US persons in a covered category." } else { "" })
            .opt(answered.then_some("yes")).text(if answered { "Supplier owned by a company in a foreign-adversary country." } else { "" })
            .opt(answered.then_some("yes")).text(if answered { "Privileged remote access; persistent threat." } else { "" })
            .opt(accepted).opt(notified).opt(initial_signed.map(|_| signer)).opt(initial_signed.map(|t| t.format(&time::format_description::well_known::Rfc3339).expect("UTC")))
            .opt(served).opt(responded).opt(circulated).opt(decision).opt(final_signed.map(|_| signer))
            .opt(final_signed.map(|t| t.format(&time::format_description::well_known::Rfc3339).expect("UTC"))).opt(decided).opt(final_due).opt(response_due)
            .text(&analyst.to_string()).ts(created).ts(last_change).raw(&(1 + d as i32 * 2).to_string());
        r.end(&mut cbuf);
        row.text(&id.to_string()).text(&supplier.to_string()).raw("supplier").text(&analyst.to_string()).ts(created);
        row.end(&mut lbuf);
        let mut events_left = per_case
            + if extra > 0 {
                extra -= 1;
                1
            } else {
                0
            };
        let mut emit = |ebuf: &mut Vec<u8>,
                        seq: &mut i64,
                        prev: &mut Vec<u8>,
                        rng: &mut Rng,
                        at: OffsetDateTime,
                        actor: UserId,
                        role: &str,
                        kind: EventType,
                        changes: Value| {
            if events_left > 0 {
                push_event(ebuf, seq, prev, rng, at, actor, role, kind, ("case", id.to_string()), changes);
                events_left -= 1;
            }
        };
        emit(
            &mut ebuf,
            &mut seq,
            &mut prev,
            &mut rng,
            created,
            analyst,
            "analyst",
            EventType::CaseCreated,
            json!({"docket_number": {"after": docket}, "title": {"after": title}, "category": {"after": category}, "adversaries": {"after": [adv]}}),
        );
        if i % 20 == 0 {
            let note_at = created + Duration::days(5);
            row.text(&rng.uuid(note_at).to_string())
                .text(&id.to_string())
                .text(&analyst.to_string())
                .text("Spoke with the US counterparty's counsel about the deployment.")
                .ts(note_at);
            row.end(&mut nbuf);
            summary.notes += 1;
            emit(
                &mut ebuf,
                &mut seq,
                &mut prev,
                &mut rng,
                note_at,
                analyst,
                "analyst",
                EventType::CaseNoteAdded,
                json!({"length": 62}),
            );
        }
        let path: [(u8, &str, i64, &str); 7] = [
            (1, "accept", 20, "initial_review"),
            (2, "notify_agencies", 60, "first_interagency"),
            (3, "begin_initial_determination", 100, "initial_determination"),
            (4, "serve_initial_determination", 120, "response_period"),
            (5, "circulate_final_determination", 170, "second_interagency"),
            (6, "begin_final_determination", 190, "final_determination"),
            (7, "issue_final_determination", 201, "decided"),
        ];
        let mut before = "intake";
        for (need, action, at_day, after) in path {
            if d < need {
                break;
            }
            let after = if need == 7 && decision == Some("permitted_with_mitigation") { "monitoring" } else { after };
            let (actor, role) = if action == "accept" { (supervisor, "supervisor") } else { (analyst, "analyst") };
            emit(
                &mut ebuf,
                &mut seq,
                &mut prev,
                &mut rng,
                created + Duration::days(at_day),
                actor,
                role,
                EventType::CaseTransition,
                json!({"action": action, "stage": {"before": before, "after": after}}),
            );
            before = after;
        }
        let mut assessment = None;
        if d >= 3 || (d >= 1 && i % 2 == 0) {
            let level = 1 + (rng.below(4) as u8);
            let (scores, contributions, composite, band) = &profiles[&(cs, level)];
            let at = created + Duration::days(45);
            let aid = rng.uuid(at);
            row.text(&aid.to_string())
                .text(&id.to_string())
                .raw(&rubric_version.to_string())
                .raw(if cs { "true" } else { "false" })
                .text(&scores.to_string())
                .text(&contributions.to_string())
                .raw(&format!("{composite:.2}"))
                .raw(band)
                .text("Assessment recorded during initial review.")
                .text(&analyst.to_string())
                .ts(at);
            row.end(&mut abuf);
            summary.assessments += 1;
            assessment = Some(aid);
            emit(
                &mut ebuf,
                &mut seq,
                &mut prev,
                &mut rng,
                at,
                analyst,
                "analyst",
                EventType::CaseAssessed,
                json!({"assessment": aid, "composite": composite, "band": band}),
            );
        }
        if let (Some(outcome), Some(signed_at)) = (decision, final_signed) {
            let did = rng.uuid(signed_at);
            let content = json!({
                "title": format!("Final Determination: Case No. {docket}"), "party": format!("Supplier of case {i}"),
                "covered_finding": "Covered.", "nexus_finding": "Owned from a foreign-adversary country.", "risk_analysis": "Undue risk.",
                "background": "", "submission_answers": [], "cessation": if outcome == "prohibited" { "Cease within 30 days." } else { "" },
                "prohibitions": [], "penalties": "", "measures": [], "cbi_sections": []
            });
            let hash = content_hash(&Signed {
                id: crate::ids::DeterminationId(did),
                case_id: crate::ids::CaseId(id),
                kind: "final",
                outcome,
                revision: 1,
                content: &content,
                cited_documents: &[],
                assessment_id: assessment.map(crate::ids::AssessmentId),
                supersedes: None,
                drafted_by: analyst,
            });
            row.text(&did.to_string())
                .text(&id.to_string())
                .raw("final")
                .raw(outcome)
                .raw("1")
                .text(&content.to_string())
                .opt(assessment)
                .raw("true")
                .text(&analyst.to_string())
                .ts(signed_at - Duration::days(5))
                .ts(signed_at - Duration::days(5));
            row.end(&mut dbuf);
            row.text(&did.to_string())
                .text(&signer.to_string())
                .ts(signed_at)
                .ts(signed_at - Duration::minutes(2))
                .raw(&format!("\\x{}", hex::encode(hash)));
            row.end(&mut signatures);
            summary.determinations += 1;
            emit(
                &mut ebuf,
                &mut seq,
                &mut prev,
                &mut rng,
                signed_at,
                signer,
                "supervisor",
                EventType::DeterminationSigned,
                json!({"determination": did, "kind": "final", "outcome": outcome, "content_sha256": hex::encode(hash)}),
            );
        }
        // Reads and sign-ins fill the log up to the requested count.
        let mut t = created + Duration::days(1);
        while events_left > 0 {
            t += Duration::hours(7);
            if rng.below(3) == 0 {
                push_event(
                    &mut ebuf,
                    &mut seq,
                    &mut prev,
                    &mut rng,
                    t,
                    analyst,
                    "analyst",
                    EventType::AuthSignIn,
                    ("user", analyst.to_string()),
                    json!({}),
                );
            } else {
                push_event(
                    &mut ebuf,
                    &mut seq,
                    &mut prev,
                    &mut rng,
                    t,
                    supervisor,
                    "supervisor",
                    EventType::CaseViewed,
                    ("case", id.to_string()),
                    json!({"what": "case page"}),
                );
            }
            events_left -= 1;
        }
        b.inc(1);
        if cbuf.len() > 8 << 20 || ebuf.len() > 32 << 20 {
            flush(&mut tx, copy_cases, &mut cbuf, true).await?;
            flush(&mut tx, copy_links, &mut lbuf, true).await?;
            flush(&mut tx, copy_notes, &mut nbuf, true).await?;
            flush(&mut tx, copy_assess, &mut abuf, true).await?;
            flush(&mut tx, copy_dets, &mut dbuf, true).await?;
            flush(&mut tx, copy_events, &mut ebuf, true).await?;
        }
    }
    flush(&mut tx, copy_cases, &mut cbuf, true).await?;
    flush(&mut tx, copy_links, &mut lbuf, true).await?;
    flush(&mut tx, copy_notes, &mut nbuf, true).await?;
    flush(&mut tx, copy_assess, &mut abuf, true).await?;
    flush(&mut tx, copy_dets, &mut dbuf, true).await?;
    flush(&mut tx, copy_events, &mut ebuf, true).await?;
    b.finish_and_clear();
    summary.cases = cases;

    // The second docket: filers in their roles (a few PRC-controlled) and their
    // declarations, one in force per filer, kind and year, some amended; each received with
    // its history and `declaration.filed` event.
    if declarations > 0 {
        let filers_n = (declarations / 20).max(12);
        let d_start = OffsetDateTime::new_utc(time::macros::date!(2025 - 03 - 17), time::macros::time!(09:00));
        let d_span = (now - d_start).whole_seconds().max(1);
        let (mut pbuf, mut rbuf, mut dbuf2, mut hbuf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut filers: Vec<(Uuid, &'static [&'static str])> = Vec::with_capacity(filers_n as usize);
        for f in 0..filers_n {
            let id = rng.uuid(d_start);
            let manufacturer = f % 3 == 0;
            let country = if f % 17 == 5 { "CN" } else { ["US", "JP", "DE", "KR", "MX", "CA"][f as usize % 6] };
            let name = if manufacturer {
                format!(
                    "{} Motors {f} {}",
                    ["Voltra", "Ridgeway", "Kestrel", "Aurora", "Granite"][f as usize % 5],
                    if country == "US" { "Inc." } else { "Ltd." }
                )
            } else {
                format!(
                    "{} Telematics Imports {f} LLC",
                    ["Harbor", "Summit", "Pacific", "Lakeside", "Cobalt"][f as usize % 5]
                )
            };
            row.text(&id.to_string()).text(&name).raw("company").text(country).null().null().ts(d_start).ts(d_start);
            row.end(&mut pbuf);
            let role = if manufacturer { "vehicle_manufacturer" } else { "hardware_importer" };
            row.text(&id.to_string())
                .raw(role)
                .raw("2025-03-17")
                .ts(d_start)
                .text(&analysts[f as usize % analysts.len()].to_string());
            row.end(&mut rbuf);
            const MAKER: &[&str] = &["completed_vehicle", "software"];
            const IMPORTER: &[&str] = &["hardware"];
            filers.push((id, if manufacturer { MAKER } else { IMPORTER }));
        }
        flush(&mut tx, "COPY parties (id, legal_name, kind, country, parent_id, ownership_pct, created_at, updated_at) FROM STDIN (FORMAT csv)", &mut pbuf, true).await?;
        flush(
            &mut tx,
            "COPY filer_roles (party_id, role, since, recorded_at, recorded_by) FROM STDIN (FORMAT csv)",
            &mut rbuf,
            true,
        )
        .await?;
        let copy_decl = "COPY declarations (id, number, filer_id, kind, model_year, calendar_year, covers, certifications, \
            general_authorization, filed_on, received_at, received_by, via, status, status_reason, amends, amendment_reason, \
            superseded_by, version, updated_at) FROM STDIN (FORMAT csv)";
        let copy_hist = "COPY declaration_history (declaration_id, at, by_user, status_before, status_after, reason) FROM STDIN (FORMAT csv)";
        let b = bar(declarations, "declarations", progress);
        let mut number = 0u64;
        let mut written = 0u64;
        let mut slot = 0u64;
        while written < declarations {
            let (filer, kinds) = filers[(slot % filers_n) as usize];
            let k = slot / filers_n;
            slot += 1;
            let kind = kinds[(k % kinds.len() as u64) as usize];
            let year = 2026 + (k / kinds.len() as u64) as i64;
            if year > 2100 {
                anyhow::bail!("too many declarations for {filers_n} filers");
            }
            let received =
                d_start + Duration::seconds((d_span as i128 * written as i128 / declarations as i128) as i64);
            let by = analysts[rng.below(analysts.len() as u64) as usize];
            let covers = if kind == "hardware" {
                format!("{{\"TCU-{:04}\",\"GW-{:04}\"}}", rng.below(10_000), rng.below(10_000))
            } else {
                let make = ["Voltra", "Ridgeway", "Kestrel", "Aurora", "Granite"][rng.below(5) as usize];
                format!(
                    "{{\"{make} Model {} {year}\",\"{make} Model {} {year} Touring\"}}",
                    rng.below(40),
                    rng.below(40)
                )
            };
            let certs = "{\"No VCS hardware or covered software of a PRC- or Russia-linked supplier\"}";
            // One in thirty is amended: the first filing superseded by its amendment.
            let amended = rng.below(30) == 0 && written + 2 <= declarations;
            let status =
                ["received", "under_review", "questions_asked", "accepted", "accepted", "accepted", "deficient"]
                    [rng.below(7) as usize];
            let mut rows: Vec<(Uuid, Option<Uuid>, Option<Uuid>, &str)> = Vec::new();
            let first = rng.uuid(received);
            if amended {
                let second = rng.uuid(received + Duration::hours(30));
                rows.push((first, None, Some(second), "superseded"));
                rows.push((second, Some(first), None, status));
            } else {
                rows.push((first, None, None, status));
            }
            for (n, (id, amends, superseded_by, status)) in rows.into_iter().enumerate() {
                number += 1;
                let at = received + Duration::hours(30 * n as i64);
                let num = format!("CVD-{}-{number:06}", at.year());
                let (model_year, calendar_year) =
                    if kind == "hardware" { (None, Some(year)) } else { (Some(year), None) };
                row.text(&id.to_string())
                    .text(&num)
                    .text(&filer.to_string())
                    .raw(kind)
                    .opt(model_year)
                    .opt(calendar_year)
                    .text(&covers)
                    .text(certs)
                    .opt(if rng.below(10) == 0 { Some("GA 1") } else { None })
                    .raw(&crate::dates::today(at).to_string())
                    .ts(at)
                    .text(&by.to_string())
                    .raw(["api", "form", "bulk"][rng.below(3) as usize])
                    .raw(status)
                    .text(if status == "deficient" { "The certification names no supplier assessment." } else { "" })
                    .opt(amends)
                    .text(if amends.is_some() { "A supplier of the telematics unit changed." } else { "" })
                    .opt(superseded_by)
                    .raw("1")
                    .ts(at);
                row.end(&mut dbuf2);
                row.text(&id.to_string()).ts(at).text(&by.to_string()).null().raw("received").text("");
                row.end(&mut hbuf);
                push_event(
                    &mut ebuf,
                    &mut seq,
                    &mut prev,
                    &mut rng,
                    at,
                    by,
                    "analyst",
                    EventType::DeclarationFiled,
                    ("declaration", id.to_string()),
                    json!({"number": num, "filer": filer, "kind": kind, "model_year": model_year,
                           "calendar_year": calendar_year, "via": "api"}),
                );
                written += 1;
                b.inc(1);
            }
            if dbuf2.len() > 8 << 20 || ebuf.len() > 32 << 20 {
                flush(&mut tx, copy_decl, &mut dbuf2, true).await?;
                flush(&mut tx, copy_hist, &mut hbuf, true).await?;
                flush(&mut tx, copy_events, &mut ebuf, true).await?;
            }
        }
        flush(&mut tx, copy_decl, &mut dbuf2, true).await?;
        flush(&mut tx, copy_hist, &mut hbuf, true).await?;
        flush(&mut tx, copy_events, &mut ebuf, true).await?;
        b.finish_and_clear();
        // The numbers used, taken from the office's sequence (the service's role may draw from
        // it, not set it), so the next declaration received continues after them.
        sqlx::query_scalar!(
            r#"SELECT count(nextval('declaration_numbers')) AS "n!" FROM generate_series(1, $1::bigint)"#,
            number as i64
        )
        .fetch_one(&mut *tx)
        .await?;
        summary.filers = filers_n;
        summary.declarations = written;
    }
    summary.events = (seq - sqlx::query_scalar!("SELECT seq FROM audit_head").fetch_one(&mut *tx).await?) as u64;
    // Signatures go through the database's guard like the service's: submitted, then signed.
    sqlx::query!("CREATE TEMP TABLE synthetic_signatures (id uuid, signed_by uuid, signed_at timestamptz, reauth_at timestamptz, sha bytea) ON COMMIT DROP")
        .execute(&mut *tx)
        .await?;
    flush(&mut tx, "COPY synthetic_signatures FROM STDIN (FORMAT csv)", &mut signatures, true).await?;
    #[expect(clippy::disallowed_methods, reason = "synthetic_signatures is a temporary table, unknown at compile time")]
    sqlx::query("UPDATE determinations d SET status = 'submitted', submitted_at = s.signed_at - interval '1 day' FROM synthetic_signatures s WHERE d.id = s.id")
        .execute(&mut *tx)
        .await?;
    #[expect(clippy::disallowed_methods, reason = "synthetic_signatures is a temporary table, unknown at compile time")]
    sqlx::query("UPDATE determinations d SET status = 'signed', signed_by = s.signed_by, signed_at = s.signed_at, reauth_at = s.reauth_at, content_sha256 = s.sha FROM synthetic_signatures s WHERE d.id = s.id")
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE audit_head SET seq = $1, hash = $2, written_seq = $1, classified_seq = $1 WHERE singleton",
        seq,
        &prev
    )
    .execute(&mut *tx)
    .await?;
    for (year, last) in dockets {
        crate::cases::db::reserve_docket(&mut tx, year, last as i32).await?;
    }
    tx.commit().await?;
    // Visibility maps and statistics as autovacuum would leave them in a running office.
    // Only the tables' owner may vacuum them: leave the service's role for this.
    let mut conn = pool.acquire().await?;
    sqlx::query!("RESET ROLE").execute(&mut *conn).await?;
    let vacuumed = sqlx::query!("VACUUM ANALYZE").execute(&mut *conn).await;
    sqlx::query!("SET ROLE icts_app").execute(&mut *conn).await?;
    vacuumed?;
    Ok(summary)
}
