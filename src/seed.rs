//! `icts-review seed --demo`: a working office for a new user to look at. One account per
//! role (one-time passwords printed once), and about fifty cases in every stage and
//! category, among them the public Kaspersky review (ICTS-2021-002) carried through to its
//! final determination.
//!
//! The cases are driven through the very same use cases as the pages, with a clock moved
//! through the years, so their clocks, timelines and audit events are real.

use crate::ids::CaseId;
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

use crate::access::Actor;
use crate::access::Role;
use crate::accounts::model::NewUser;
use crate::accounts::password;
use crate::accounts::service::create_user;
use crate::cases::model::{AnswerEdit, CaseEdit, CaseInput, CaseRow, Origin};
use crate::cases::reference::Reference;
use crate::cases::workflow::{Action, Decision, Input, Stage};
use crate::cases::{service, transactions};
use crate::clock::ManualClock;
use crate::error::DomainError;
use crate::parties::{self, EvidenceInput, NexusCriterion, PartyInput, PartyKind, PartyRole};

/// The accounts created, with their one-time passwords.
pub struct DemoAccount {
    pub email: String,
    pub role: Role,
    /// One-time password (must be changed at first sign-in).
    pub password: String,
}

fn actor(id: crate::ids::UserId, name: &str, role: Role) -> Actor {
    Actor {
        id,
        email: String::new(),
        name: name.into(),
        role,
        session_id: crate::ids::SessionId(Uuid::nil()),
        reauth_at: None,
        meta: crate::access::RequestMeta { request_id: Some("seed:demo".into()), ..Default::default() },
    }
}

/// What the seed's use cases run on: the database, the seed's own clock, screening and
/// whether notifications are mailed.
#[derive(Clone)]
struct SeedState {
    db: sqlx::PgPool,
    clock: ManualClock,
    screening: crate::parties::screening_service::Screening,
    mail: bool,
}

impl SeedState {
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
        self.db.acquire().await
    }

    fn now(&self) -> time::OffsetDateTime {
        crate::clock::Clock::now(&self.clock)
    }
}

struct Office {
    state: SeedState,
    clock: ManualClock,
    analysts: Vec<Actor>,
    supervisors: Vec<Actor>,
    /// The office's administrator (reference data).
    admin: Actor,
    reference: Reference,
}

impl Office {
    async fn file(&self, who: &Actor, input: CaseInput) -> Result<CaseRow, DomainError> {
        let new = input.parse(&self.reference, self.clock_today()).map_err(DomainError::Invalid)?;
        service::create(&mut *self.state.conn().await?, who, self.state.now(), new).await
    }

    fn clock_today(&self) -> time::Date {
        crate::dates::today(crate::clock::Clock::now(&self.clock))
    }

    async fn act(&self, who: &Actor, id: CaseId, action: Action, input: Input) -> Result<CaseRow, DomainError> {
        service::transition(&mut *self.state.conn().await?, who, self.state.now(), id, action, input, None).await
    }

    /// Records a nexus finding and a risk assessment (every applicable criterion at `level`,
    /// with `overrides` of single criteria), as the workflow requires before the initial
    /// determination.
    async fn research(
        &self,
        who: &Actor,
        id: CaseId,
        level: u8,
        overrides: &[(&str, u8)],
        when: &crate::dates::When,
    ) -> Result<(), DomainError> {
        use crate::parties::NexusCriterion;
        use crate::risk::service::{CriterionScore, NexusItem, assess, current_rubric, record_nexus};
        let mut criteria = std::collections::BTreeMap::new();
        for c in NexusCriterion::ALL {
            let finding = match c {
                NexusCriterion::Ownership => {
                    "Ultimate parent incorporated in a foreign-adversary country (see the ownership chain)."
                }
                NexusCriterion::Facilities => "Headquarters and development facilities in the adversary country.",
                NexusCriterion::PersonnelTies => {
                    "Senior officers with ties to state entities reported in open sources."
                }
                NexusCriterion::AdversaryLaw => "Subject to national-security laws that can compel cooperation.",
                NexusCriterion::OperationControl => "Updates and remote servicing operated from the adversary country.",
            };
            criteria.insert(
                c.as_str().to_string(),
                NexusItem { finding: finding.into(), evidence: "Party record and public filings".into() },
            );
        }
        record_nexus(
            &mut *self.state.conn().await?,
            who,
            self.state.now(),
            id,
            criteria,
            crate::cases::workflow::Answer::Yes,
            "The supplier is owned by, and subject to the jurisdiction of, a foreign adversary.",
            when,
        )
        .await?;
        let mut conn = self.state.db.acquire().await?;
        let rubric = current_rubric(&mut conn).await?;
        let c = crate::cases::service::visible(&mut conn, who, id, false).await?;
        drop(conn);
        let cs = self.reference.categories.iter().any(|x| x.code == c.category && x.connected_software);
        let scores = rubric
            .definition
            .applicable(cs)
            .map(|cr| {
                let s = overrides.iter().find(|o| o.0 == cr.code).map(|o| o.1).unwrap_or(level);
                (cr.code.clone(), CriterionScore { score: s, rationale: cr.levels[s as usize].clone(), evidence: None })
            })
            .collect();
        assess(
            &mut *self.state.conn().await?,
            who,
            self.state.now(),
            id,
            scores,
            "Assessment recorded during initial review.",
            when,
        )
        .await?;
        Ok(())
    }

    /// Answers the three questions yes with `notes`, on `answered_on` (today when `None`;
    /// an earlier date is recorded late, with the reason of a moved-in case).
    async fn answer_questions(
        &self,
        who: &Actor,
        id: CaseId,
        notes: [&str; 3],
        answered_on: Option<&str>,
    ) -> Result<(), DomainError> {
        let mut conn = self.state.db.acquire().await?;
        let c = service::visible(&mut conn, who, id, false).await?;
        drop(conn);
        let edit = CaseEdit {
            version: c.version,
            covered: Some(AnswerEdit::Yes.into()),
            covered_note: Some(notes[0].into()),
            nexus: Some(AnswerEdit::Yes.into()),
            nexus_note: Some(notes[1].into()),
            undue_risk: Some(AnswerEdit::Yes.into()),
            undue_risk_note: Some(notes[2].into()),
            answered_on: answered_on.map(str::to_string),
            late_reason: answered_on.map(|_| MOVED_IN.to_string()),
            ..CaseEdit::default()
        };
        let valid = edit.parse(&self.reference, self.clock_today()).map_err(DomainError::Invalid)?;
        service::edit(&mut *self.state.conn().await?, who, self.state.now(), id, c.version, valid).await?;
        Ok(())
    }

    fn later(&self, days: i64) {
        self.clock.advance(Duration::days(days));
    }

    /// Records notices to `agencies` for an interagency step, sent today; with
    /// `concur`, every agency concurs the same day.
    async fn notices(
        &self,
        who: &Actor,
        id: CaseId,
        step: &str,
        agencies: &[&str],
        concur: bool,
    ) -> Result<(), DomainError> {
        use crate::proceedings::model::{NewNotice, NoticeResponse};
        use crate::proceedings::service::{add_notice, respond};
        for a in agencies {
            let n = add_notice(
                &mut *self.state.conn().await?,
                who,
                self.state.now(),
                id,
                NewNotice {
                    step: crate::choice::Choice::named(step),
                    agency: (*a).into(),
                    sent_on: self.clock_today().to_string(),
                    due_on: None,
                    late_reason: None,
                },
            )
            .await?;
            if concur {
                let r = NoticeResponse {
                    response: crate::proceedings::model::AgencyAnswer::Concur.into(),
                    responded_on: self.clock_today().to_string(),
                    comment: "No objection.".into(),
                    objector_level: None,
                    referred_to_president: None,
                    dispute_resolved_on: None,
                    dispute_resolution: None,
                    version: n.version,
                    late_reason: None,
                };
                respond(&mut *self.state.conn().await?, who, self.state.now(), n.id, r).await?;
            }
        }
        Ok(())
    }

    /// Records notices to `agencies` for an interagency step sent on `sent_on` (recorded
    /// late when that is more than a week ago); with `concur_on`, every agency concurs then.
    async fn dated_notices(
        &self,
        who: &Actor,
        id: CaseId,
        step: &str,
        agencies: &[&str],
        sent_on: time::Date,
        concur_on: Option<time::Date>,
    ) -> Result<(), DomainError> {
        use crate::proceedings::model::{NewNotice, NoticeResponse};
        use crate::proceedings::service::{add_notice, respond};
        let late = |on: time::Date| (self.clock_today() - on > Duration::days(7)).then(|| MOVED_IN.to_string());
        for a in agencies {
            let n = add_notice(
                &mut *self.state.conn().await?,
                who,
                self.state.now(),
                id,
                NewNotice {
                    step: crate::choice::Choice::named(step),
                    agency: (*a).into(),
                    sent_on: sent_on.to_string(),
                    due_on: None,
                    late_reason: late(sent_on),
                },
            )
            .await?;
            if let Some(on) = concur_on {
                let r = NoticeResponse {
                    response: crate::proceedings::model::AgencyAnswer::Concur.into(),
                    responded_on: on.to_string(),
                    comment: "No objection.".into(),
                    objector_level: None,
                    referred_to_president: None,
                    dispute_resolved_on: None,
                    dispute_resolution: None,
                    version: n.version,
                    late_reason: late(on),
                };
                respond(&mut *self.state.conn().await?, who, self.state.now(), n.id, r).await?;
            }
        }
        Ok(())
    }

    /// A determination signed on paper on `signed_on`: drafted from the signed text by
    /// `drafter`, its signed copy attached to the case, the signature recorded by the first
    /// supervisor and confirmed by the second after a step-up. Returns its id.
    #[allow(clippy::too_many_arguments)]
    async fn signed_outside(
        &self,
        drafter: &Actor,
        (recorder, confirmer): (&Actor, &Actor),
        id: CaseId,
        kind: crate::determinations::Kind,
        outcome: &str,
        content: crate::determinations::Content,
        signed_on: time::Date,
    ) -> Result<crate::ids::DeterminationId, DomainError> {
        use crate::determinations::{OutsideSignature, service};
        // Each determination is moved in on its own (the recording takes its time).
        self.clock.advance(Duration::minutes(30));
        let title = content.title.clone();
        let drafted = crate::dates::When { on: Some(signed_on.to_string()), late_reason: Some(MOVED_IN.into()) };
        let d = self.submitted(drafter, id, kind, outcome, content, &drafted).await?;
        // The demo's stand-in for the scanned signed copy: a small PDF naming what it stands for.
        let pdf = format!(
            "%PDF-1.4\n% Demo office: stands for the scanned signed copy of \"{title}\", signed {signed_on}.\n%%EOF\n"
        );
        let copy = crate::documents::service::store(
            &mut *self.state.conn().await?,
            recorder,
            self.state.now(),
            id,
            crate::documents::model::Upload {
                title: format!("{title} — signed copy"),
                marking: "cui".into(),
                pointer: String::new(),
                submission_id: None,
                file: Some(("signed-copy.pdf".into(), pdf.into_bytes())),
                refused: Vec::new(),
            },
        )
        .await?;
        let signature = OutsideSignature {
            signer_name: "Gina M. Raimondo".into(),
            signer_title: "Secretary of Commerce".into(),
            authority: "Exercising the authority delegated to the Secretary of Commerce by Executive Order 13873 of May 15, 2019".into(),
            signed_on: signed_on.to_string(),
            signed_copy: copy.id,
            late_reason: Some(MOVED_IN.into()),
        };
        service::record_outside(
            &mut *self.state.conn().await?,
            recorder,
            self.state.now(),
            d,
            signature,
            self.state.mail,
        )
        .await?;
        let mut fresh = confirmer.clone();
        fresh.reauth_at = Some(crate::clock::Clock::now(&self.clock));
        service::confirm_outside(&mut *self.state.conn().await?, &fresh, self.state.now(), d, self.state.mail).await?;
        Ok(d)
    }

    /// Records a party submission received today.
    async fn submission(&self, who: &Actor, id: CaseId, kind: &str, summary: &str) -> Result<(), DomainError> {
        let s = crate::proceedings::model::NewSubmission {
            kind: crate::choice::Choice::named(kind),
            received_on: self.clock_today().to_string(),
            summary: summary.into(),
            party_id: None,
            late_reason: None,
        };
        crate::proceedings::service::add_submission(&mut *self.state.conn().await?, who, self.state.now(), id, s)
            .await?;
        Ok(())
    }

    /// Proposes a third-party monitor and a data-localisation measure.
    async fn measure(&self, who: &Actor, id: CaseId) -> Result<(), DomainError> {
        for (kind, description) in [
            (
                "third_party_monitor",
                "An independent third-party monitor approved by the office reviews access to US systems quarterly.",
            ),
            ("data_localisation", "US persons' data is stored and processed only in the United States."),
        ] {
            let m = crate::mitigation::NewMeasure {
                kind: kind.into(),
                description: description.into(),
                owner: "The US counterparty".into(),
                due_on: Some((self.clock_today() + Duration::days(180)).to_string()),
                submission_id: None,
            };
            crate::mitigation::add(&mut *self.state.conn().await?, who, self.state.now(), id, m).await?;
        }
        Ok(())
    }

    /// Agrees every proposed measure of a case.
    async fn agree_measures(&self, who: &Actor, id: CaseId) -> Result<(), DomainError> {
        let mut conn = self.state.db.acquire().await?;
        let measures = crate::mitigation::db::measures(&mut conn, id).await?;
        drop(conn);
        for m in measures.into_iter().filter(|m| m.status == crate::mitigation::MeasureStatus::Proposed) {
            let s = crate::mitigation::StatusChange {
                status: crate::mitigation::MeasureStatus::Agreed.into(),
                comment: "Agreed in the mitigation agreement.".into(),
                version: m.version,
                changed_on: None,
                late_reason: None,
            };
            crate::mitigation::set_status(
                &mut *self.state.conn().await?,
                who,
                self.state.now(),
                m.id,
                s,
                self.state.mail,
            )
            .await?;
        }
        Ok(())
    }

    /// Drafts a determination as `drafter`, submits it and has `signer` sign it after a
    /// step-up re-authentication.
    #[allow(clippy::too_many_arguments)]
    async fn determination(
        &self,
        drafter: &Actor,
        signer: &Actor,
        id: CaseId,
        kind: crate::determinations::Kind,
        outcome: &str,
        content: crate::determinations::Content,
    ) -> Result<(), DomainError> {
        use crate::determinations::service;
        let d = self.submitted(drafter, id, kind, outcome, content, &Default::default()).await?;
        let mut fresh = signer.clone();
        fresh.reauth_at = Some(crate::clock::Clock::now(&self.clock));
        service::sign(&mut *self.state.conn().await?, &fresh, self.state.now(), d, Default::default(), self.state.mail)
            .await?;
        Ok(())
    }

    /// Drafts a determination as `drafter` (drafting begun `drafted`) and submits it.
    async fn submitted(
        &self,
        drafter: &Actor,
        id: CaseId,
        kind: crate::determinations::Kind,
        outcome: &str,
        content: crate::determinations::Content,
        drafted: &crate::dates::When,
    ) -> Result<crate::ids::DeterminationId, DomainError> {
        use crate::determinations::service::{Draft, create, submit};
        let draft =
            Draft { outcome: outcome.into(), content, cited_documents: Vec::new(), unclassified_confirmed: true };
        let d = create(&mut *self.state.conn().await?, drafter, self.state.now(), id, kind, draft, drafted).await?;
        submit(&mut *self.state.conn().await?, drafter, self.state.now(), d.id, self.state.mail).await?;
        Ok(d.id)
    }

    /// The content of a determination on case `id` drawn from its record.
    async fn content(
        &self,
        who: &Actor,
        id: CaseId,
        kind: crate::determinations::Kind,
        outcome: &str,
    ) -> Result<crate::determinations::Content, DomainError> {
        use crate::determinations::{Content, Kind, PENALTIES, Prohibition, SubmissionAnswer};
        let mut conn = self.state.db.acquire().await?;
        let c = service::visible(&mut conn, who, id, false).await?;
        let party = crate::parties::db::parties_of_case(&mut conn, id).await?.into_iter().next().map(|p| p.legal_name);
        let submissions = crate::proceedings::db::submissions(&mut conn, id).await?;
        let measures = crate::mitigation::db::measures(&mut conn, id).await?;
        let party = party.unwrap_or_else(|| c.title.clone());
        let prohibits = crate::determinations::outcome_prohibits(outcome);
        let effective = self.clock_today() + Duration::days(30);
        Ok(Content {
            title: format!(
                "{}: Case No. {}, {party}",
                if kind == Kind::Initial { "Initial Determination" } else { "Final Determination" },
                c.docket_number
            ),
            party,
            covered_finding: if c.covered_note.is_empty() {
                "A covered ICTS transaction.".into()
            } else {
                c.covered_note.clone()
            },
            nexus_finding: if c.nexus_note.is_empty() {
                "Involves a person subject to a foreign adversary's jurisdiction.".into()
            } else {
                c.nexus_note.clone()
            },
            risk_analysis: if c.undue_risk_note.is_empty() {
                "Poses undue or unacceptable risk.".into()
            } else {
                c.undue_risk_note.clone()
            },
            background: String::new(),
            submission_answers: submissions
                .iter()
                .filter(|s| s.kind != crate::proceedings::model::SubmissionKind::MeetingRequest)
                .map(|s| SubmissionAnswer {
                    submission_id: s.id,
                    answer: "Considered in full; it does not address the risk identified.".into(),
                })
                .collect(),
            cessation: if prohibits { format!("The transactions cease from {effective}.") } else { String::new() },
            prohibitions: if outcome == "prohibited" {
                vec![Prohibition {
                    description: "New agreements and continued provision of the ICTS".into(),
                    effective_on: effective,
                }]
            } else {
                Vec::new()
            },
            penalties: if prohibits { PENALTIES.into() } else { String::new() },
            measures: if crate::determinations::outcome_needs_measures(outcome) {
                measures.iter().filter(|m| kind == Kind::Initial || m.status.is_in_force()).map(|m| m.id).collect()
            } else {
                Vec::new()
            },
            cbi_sections: Vec::new(),
            summary: String::new(),
            future_review: if outcome == "not_prohibited" {
                "The transaction may be reviewed again in the future.".into()
            } else {
                String::new()
            },
        })
    }

    /// Drives a case along the main path until it reaches `target`.
    async fn drive(
        &self,
        id: CaseId,
        analyst: &Actor,
        supervisor: &Actor,
        signer: &Actor,
        target: Stage,
        decision: Decision,
    ) -> Result<(), DomainError> {
        let steps: &[(Stage, Action)] = &[
            (Stage::InitialReview, Action::Accept),
            (Stage::FirstInteragency, Action::NotifyAgencies),
            (Stage::InitialDetermination, Action::BeginInitialDetermination),
            (Stage::ResponsePeriod, Action::ServeInitialDetermination),
            (Stage::SecondInteragency, Action::CirculateFinalDetermination),
            (Stage::FinalDetermination, Action::BeginFinalDetermination),
            (Stage::Decided, Action::IssueFinalDetermination),
        ];
        for (reached, action) in steps {
            if *reached == Stage::Decided && target == Stage::FinalDetermination {
                break;
            }
            match action {
                Action::Accept => {
                    self.act(supervisor, id, Action::Accept, Input::default()).await?;
                    self.later(20);
                }
                Action::NotifyAgencies => {
                    self.notices(analyst, id, "first", &["DOJ", "DHS", "DOD"], false).await?;
                    self.act(analyst, id, Action::NotifyAgencies, Input::default()).await?;
                    self.later(15);
                }
                Action::BeginInitialDetermination => {
                    self.answer_questions(
                        analyst,
                        id,
                        [
                            "ICTS used by US persons in a covered category, after 19 January 2021.",
                            "Supplier headquartered and developing the product in a foreign-adversary country.",
                            "Privileged remote access to US systems; persistent threat; mitigation unlikely to suffice.",
                        ],
                        None,
                    )
                    .await?;
                    self.research(analyst, id, 3, &[], &crate::dates::When::default()).await?;
                    self.later(25);
                    self.act(analyst, id, Action::BeginInitialDetermination, Input::default()).await?;
                    self.later(10);
                    let proposal =
                        if decision == Decision::PermittedWithMitigation { "mitigation" } else { "prohibition" };
                    if proposal == "mitigation" {
                        self.measure(analyst, id).await?;
                    }
                    let kind = crate::determinations::Kind::Initial;
                    let content = self.content(analyst, id, kind, proposal).await?;
                    self.determination(analyst, signer, id, kind, proposal, content).await?;
                    self.later(5);
                }
                Action::ServeInitialDetermination => {
                    let input = Input {
                        date: Some(self.clock_today()),
                        method: Some(crate::cases::workflow::ServiceMethod::ElectronicTransmission),
                        ..Input::default()
                    };
                    self.act(analyst, id, Action::ServeInitialDetermination, input).await?;
                    self.later(20);
                    self.submission(
                        analyst,
                        id,
                        "written_response",
                        "The parties answered in writing and disputed the risk findings.",
                    )
                    .await?;
                    self.later(15);
                }
                Action::CirculateFinalDetermination => {
                    self.notices(analyst, id, "second", &["DOJ", "DHS", "DOD"], true).await?;
                    self.act(analyst, id, Action::CirculateFinalDetermination, Input::default()).await?;
                    self.later(20);
                }
                Action::IssueFinalDetermination => {
                    if decision == Decision::PermittedWithMitigation {
                        self.agree_measures(supervisor, id).await?;
                    }
                    let kind = crate::determinations::Kind::Final;
                    let content = self.content(analyst, id, kind, decision.as_str()).await?;
                    self.determination(analyst, signer, id, kind, decision.as_str(), content).await?;
                    self.later(3);
                    self.act(analyst, id, Action::IssueFinalDetermination, Input::default()).await?;
                }
                other => {
                    self.act(analyst, id, *other, Input::default()).await?;
                    self.later(15);
                }
            }
            if *reached == target || (target == Stage::Monitoring && *reached == Stage::Decided) {
                break;
            }
        }
        Ok(())
    }
}

/// Seeds the demo office. Refuses a database that already holds cases or the demo accounts.
pub async fn demo(pool: sqlx::PgPool, config: &crate::config::Config) -> anyhow::Result<Vec<DemoAccount>> {
    let cases = crate::cases::db::count_all(&pool).await?;
    anyhow::ensure!(cases == 0, "the database already holds {cases} case(s); seed --demo fills only an empty office");
    let clock = ManualClock::at(datetime!(2021-06-01 14:00 UTC));
    let state = SeedState {
        db: pool.clone(),
        clock: clock.clone(),
        screening: crate::parties::screening_service::Screening {
            index: Default::default(),
            threshold: config.screening_threshold,
        },
        mail: config.smtp_url.is_some(),
    };
    let ctx = crate::audit::AuditContext {
        actor_role: Some("system".into()),
        request_id: Some("seed:demo".into()),
        ..Default::default()
    };
    let people = [
        ("ana.analyst@demo.icts.example", "Ana Analyst", Role::Analyst),
        ("raj.analyst@demo.icts.example", "Raj Analyst", Role::Analyst),
        ("sam.supervisor@demo.icts.example", "Sam Supervisor", Role::Supervisor),
        ("pat.supervisor@demo.icts.example", "Pat Supervisor", Role::Supervisor),
        ("alex.auditor@demo.icts.example", "Alex Auditor", Role::Auditor),
        ("ada.admin@demo.icts.example", "Ada Admin", Role::Admin),
    ];
    let mut accounts = Vec::new();
    let mut analysts = Vec::new();
    let mut supervisors = Vec::new();
    let mut admin = None;
    for (email, name, role) in people {
        let pw = password::generate();
        let input = NewUser::parse(email, name, role.as_str(), &pw).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let u = create_user(&pool, crate::clock::Clock::now(&clock), &ctx, input, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match role {
            Role::Analyst => analysts.push(actor(u.id, name, role)),
            Role::Supervisor => supervisors.push(actor(u.id, name, role)),
            Role::Admin => admin = Some(actor(u.id, name, role)),
            _ => {}
        }
        accounts.push(DemoAccount { email: email.into(), role, password: pw });
    }
    let reference = Reference::load(&pool).await?;
    // The sample screening list, so that parties show hits.
    crate::parties::screening_service::import_list(
        &mut *state.conn().await?,
        state.now(),
        &ctx,
        None,
        "csl-sample.csv",
        crate::parties::screening_service::SAMPLE_LIST.as_bytes(),
        state.screening.threshold,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = admin.ok_or_else(|| anyhow::anyhow!("the demo office has an administrator"))?;
    let office = Office { state: state.clone(), clock: clock.clone(), analysts, supervisors, admin, reference };
    let e = |e: DomainError| anyhow::anyhow!("seeding failed: {e}: {e:?}");
    let (ana, raj) = (&office.analysts[0], &office.analysts[1]);
    let (sam, pat) = (&office.supervisors[0], &office.supervisors[1]);

    // ICTS-2021-001: an earlier 2021 review, so that Kaspersky gets its real docket number.
    let first = office
        .file(ana, CaseInput {
            title: "Cloud services of a carrier affiliated with China Mobile".into(),
            summary: "Review of cloud and data-centre services offered to US customers by a US subsidiary of a PRC state-owned carrier; access to stored customer data by PRC authorities.".into(),
            origin: Origin::OwnInitiative.into(),
            referral_date: Some("2021-06-01".into()),
            category: "data_hosting".into(),
            adversaries: vec!["CN".into()],
            ..CaseInput::default()
        })
        .await
        .map_err(e)?;
    office.later(70);

    // ICTS-2021-002 is the office's own number of the Kaspersky review, which is moved in
    // from its paper docket at the end (below); the counter continues after it, as moving
    // the case in would make it.
    crate::cases::db::reserve_docket(&mut *state.conn().await?, 2021, 2).await?;

    // The rest of the office: every category, every stage, both rules.
    let topics: [(&str, &str, &str, &str, &str); 12] = [
        (
            "Customer-premises routers with remote management",
            "connected_devices",
            "CN",
            "Shenzhen Lianhe Network Technology Co.",
            "Firmware updates and remote management from servers in the PRC.",
        ),
        (
            "Cellular IoT modules in utility meters",
            "critical_infrastructure",
            "CN",
            "Quectel-class Module Maker Ltd.",
            "Modules with over-the-air update capability in electric-grid metering.",
        ),
        (
            "RAN equipment for a rural wireless carrier",
            "network_infrastructure",
            "CN",
            "Northern Telecom Equipment Co.",
            "Radio access network gear; maintenance by vendor engineers.",
        ),
        (
            "Drone fleet for pipeline inspection",
            "emerging_technology",
            "CN",
            "Skyward Aerial Systems Co.",
            "Flight logs and imagery uploaded to vendor cloud.",
        ),
        (
            "Messaging app with end-to-end encryption claims",
            "connected_software",
            "RU",
            "Moskva Soft LLC",
            "App used by millions of US persons; keys managed by vendor.",
        ),
        (
            "Genomic sequencing cloud service",
            "data_hosting",
            "CN",
            "Helix BioCloud Ltd.",
            "Stores genetic test results of US patients.",
        ),
        (
            "Satellite ground-station services",
            "network_infrastructure",
            "RU",
            "Orbital Link JSC",
            "Teleport operations and payload control.",
        ),
        (
            "Smart-home cameras sold through US retailers",
            "connected_devices",
            "CN",
            "BrightEye Vision Co.",
            "Video streams relayed through vendor servers.",
        ),
        (
            "Fiber-optic transceivers for long-haul networks",
            "network_infrastructure",
            "CN",
            "Wuhan Photon Devices Co.",
            "Firmware-upgradable optics in carrier backbones.",
        ),
        (
            "Payroll software with mobile app",
            "connected_software",
            "IR",
            "Tehran Systems Group",
            "Handles financial data of US employees.",
        ),
        (
            "AI model hosting for US hospitals",
            "emerging_technology",
            "CN",
            "Pearl River AI Co.",
            "Health data processed for model training.",
        ),
        (
            "Ports' cargo-handling automation software",
            "critical_infrastructure",
            "CN",
            "Harbor Automation Systems Co.",
            "Crane and terminal operating systems with remote vendor access.",
        ),
    ];
    let targets = [
        Stage::Intake,
        Stage::AwaitingInformation,
        Stage::Rejected,
        Stage::InitialReview,
        Stage::ClosedNoAction,
        Stage::FirstInteragency,
        Stage::InitialDetermination,
        Stage::ResponsePeriod,
        Stage::SecondInteragency,
        Stage::FinalDetermination,
        Stage::Decided,
        Stage::Monitoring,
    ];
    let mut made = 2;
    let mut start = datetime!(2021-10-01 14:00 UTC);
    for i in 0..48usize {
        let (title, category, adv, supplier, concern) = topics[i % topics.len()];
        let target = targets[i % targets.len()];
        let analyst = if i % 2 == 0 { ana } else { raj };
        // Later cases fall under the 2025 rule.
        start += Duration::days(if i < 24 { 40 } else { 25 });
        clock.set(start);
        let origin = Origin::ALL[i % 3];
        let c = office
            .file(
                analyst,
                CaseInput {
                    title: format!(
                        "{title} ({})",
                        ["Northeast", "Midwest", "Gulf Coast", "Pacific", "Mountain West", "Mid-Atlantic"][i % 6]
                    ),
                    summary: format!("{concern} Supplier: {supplier}."),
                    origin: origin.into(),
                    referring_agency: (origin == Origin::AgencyReferral)
                        .then(|| ["DHS", "DOD", "FCC", "TREAS"][i % 4].to_string()),
                    referral_date: Some(office.clock_today().to_string()),
                    category: category.into(),
                    adversaries: vec![adv.into()],
                    restricted: i % 7 == 3,
                    docket_number: None,
                },
            )
            .await
            .map_err(e)?;
        made += 1;
        let sp = parties::create(
            &mut *state.conn().await?,
            analyst,
            state.now(),
            &state.screening,
            PartyInput {
                legal_name: format!("{supplier} #{}", i / topics.len() + 1),
                kind: PartyKind::Company.into(),
                country: adv.into(),
                ..PartyInput::default()
            }
            .parse()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        )
        .await
        .map_err(e)?;
        crate::cases::service::link_party(
            &mut *state.conn().await?,
            analyst,
            state.now(),
            c.id,
            sp.id,
            PartyRole::Supplier,
        )
        .await
        .map_err(e)?;
        if i % 4 == 0 {
            service::add_note(
                &mut *state.conn().await?,
                analyst,
                state.now(),
                c.id,
                &format!("Spoke with the US counterparty's counsel about the {} deployment.", title.to_lowercase()),
            )
            .await
            .map_err(e)?;
        }
        match target {
            Stage::Intake => {}
            Stage::AwaitingInformation => {
                office
                    .act(
                        sam,
                        c.id,
                        Action::RequestInformation,
                        Input {
                            comment: Some(
                                "Please provide the number of units deployed and the update architecture.".into(),
                            ),
                            ..Input::default()
                        },
                    )
                    .await
                    .map_err(e)?;
            }
            Stage::Rejected => {
                office
                    .act(
                        sam,
                        c.id,
                        Action::Reject,
                        Input {
                            comment: Some(
                                "The transaction predates 19 January 2021 and has no ongoing activity.".into(),
                            ),
                            ..Input::default()
                        },
                    )
                    .await
                    .map_err(e)?;
            }
            Stage::ClosedNoAction => {
                office.act(sam, c.id, Action::Accept, Input::default()).await.map_err(e)?;
                office.later(30);
                office
                    .act(
                        sam,
                        c.id,
                        Action::CloseWithoutAction,
                        Input {
                            comment: Some(
                                "No foreign-adversary nexus: the supplier was divested to a US owner.".into(),
                            ),
                            ..Input::default()
                        },
                    )
                    .await
                    .map_err(e)?;
            }
            Stage::Decided | Stage::Monitoring => {
                let d = if target == Stage::Monitoring {
                    Decision::PermittedWithMitigation
                } else if i % 2 == 0 {
                    Decision::Prohibited
                } else {
                    Decision::NotProhibited
                };
                office.drive(c.id, analyst, sam, pat, target, d).await.map_err(e)?;
                if target == Stage::Monitoring {
                    // Monitoring: compliance checks; one of them finds a breach, which
                    // reopens that case for review.
                    office.later(90);
                    let mut conn = state.db.acquire().await?;
                    let measures = crate::mitigation::db::measures(&mut conn, c.id).await?;
                    drop(conn);
                    let breach = i / targets.len() == 1;
                    for (n, m) in measures.iter().enumerate() {
                        let (result, finding) = if breach && n == 1 {
                            ("breach", "US persons' data found replicated to servers outside the United States.")
                        } else {
                            ("compliant", "The monitor's quarterly report confirms the measure is in place.")
                        };
                        let check = crate::mitigation::NewCheck {
                            checked_on: office.clock_today().to_string(),
                            result: crate::choice::Choice::named(result),
                            finding: finding.into(),
                            document_id: None,
                            late_reason: None,
                        };
                        crate::mitigation::add_check(
                            &mut *state.conn().await?,
                            analyst,
                            state.now(),
                            m.id,
                            check,
                            state.mail,
                        )
                        .await
                        .map_err(e)?;
                    }
                }
            }
            _ => {
                office.drive(c.id, analyst, sam, pat, target, Decision::Prohibited).await.map_err(e)?;
            }
        }
        // Unassign a few intake cases so supervisors see a queue.
        if target == Stage::Intake && i % 2 == 0 {
            service::assign(&mut *state.conn().await?, sam, state.now(), &[c.id], None, state.mail).await.map_err(e)?;
        }
    }
    // ICTS-2021-002: Kaspersky Lab, Inc., moved in from the office's paper docket with the
    // public record's dates, act by act, as an office adopting the product would.
    office.later(1);
    move_in_kaspersky(&office, &state).await.map_err(e)?;
    // The second docket: the model year 2027 season of connected-vehicle declarations.
    connected_vehicles_season(&office, &state).await.map_err(e)?;

    // The office's history notified people along the way; only the breach still calls for
    // attention when the demo starts.
    crate::notifications::db::read_all_but(&state.db, crate::notifications::Kind::Breach).await?;
    tracing::info!(cases = made, first = %first.docket_number, "demo office seeded");
    Ok(accounts)
}

/// The model year 2027 season of the second docket, filed in 2026: a dozen connected-vehicle
/// manufacturers and thirty VCS hardware importers (a few of them PRC-based), recorded as
/// filers, and their declarations as the office received and reviewed them: most received
/// or accepted, some under review or with questions asked, one found deficient, one amended.
async fn connected_vehicles_season(office: &Office, state: &SeedState) -> Result<(), DomainError> {
    use crate::declarations::model::{DeclarationAmendment, DeclarationStatusChange, NewDeclaration, NewFilerRole};
    use crate::declarations::service::{self as decl, Via};
    let (ana, raj, sam) = (&office.analysts[0], &office.analysts[1], &office.supervisors[0]);
    office.clock.set(datetime!(2026-03-02 15:00 UTC));
    let makers = [
        "Voltra Motors LLC",
        "Northbeam Automotive Inc.",
        "Cascade Electric Vehicles Corp.",
        "Harbor & Pine Motor Co.",
        "Meridian Mobility Inc.",
        "Solstice Cars USA LLC",
        "Red Mesa Trucks Inc.",
        "Tidewater Automotive Group",
        "Aurora Drive Systems Inc.",
        "Granite State Motors LLC",
        "Lakeshore EV Company",
        "Pioneer Valley Autos Inc.",
    ];
    let importers: Vec<(String, &str)> = (0..30)
        .map(|i| {
            let (name, country) = match i % 10 {
                3 => ("Shenzhen Telematics Trading", "CN"),
                7 => ("Harbin Connected Modules", "CN"),
                _ => ("Telematics Import Partners", "US"),
            };
            (format!("{name} {}", i + 1), country)
        })
        .collect();
    let certify = |kind: &str| {
        vec![match kind {
            "hardware" => "The VCS hardware is not designed, developed, manufactured or supplied by a person owned by, controlled by, or subject to the jurisdiction or direction of the PRC or Russia (791.302); due diligence done and bills of materials kept.".to_string(),
            _ => "The completed vehicles carry no covered software designed, developed or supplied by a person owned by, controlled by, or subject to the jurisdiction or direction of the PRC or Russia (791.303, 791.304); due diligence done.".to_string(),
        }]
    };
    // The office expects the model year 2027 declarations by 1 April 2026: those filed after
    // are late, and a manufacturer that files none shows as missing.
    let due = crate::declarations::model::NewDueDate {
        due_on: "2026-04-01".into(),
        note: "Before the first sales of the 2027 season".into(),
    };
    decl::set_due_date(&mut *state.conn().await?, &office.admin, state.now(), 2027, &due).await?;
    let mut filed = Vec::new();
    for (i, name) in makers.iter().enumerate() {
        let p = crate::parties::create(
            &mut *state.conn().await?,
            ana,
            state.now(),
            &state.screening,
            PartyInput {
                legal_name: (*name).into(),
                kind: PartyKind::Company.into(),
                country: "US".into(),
                ..PartyInput::default()
            }
            .parse()
            .map_err(DomainError::Invalid)?,
        )
        .await?;
        let role = NewFilerRole {
            role: crate::declarations::FilerRole::VehicleManufacturer.into(),
            since: Some("2025-03-17".into()),
        };
        decl::record_filer_role(&mut *state.conn().await?, ana, state.now(), p.id, &role).await?;
        // One manufacturer files nothing yet this season.
        if i == makers.len() - 1 {
            continue;
        }
        let model = name.split_whitespace().next().unwrap_or("Model");
        let d = NewDeclaration {
            filer_id: p.id,
            kind: crate::declarations::DeclarationKind::CompletedVehicle.into(),
            model_year: Some(2027),
            calendar_year: None,
            covers: vec![
                format!("{model} Crossover LX"),
                format!("{model} Crossover Touring"),
                format!("{model} Sedan Base"),
            ],
            certifications: certify("completed_vehicle"),
            general_authorization: (i % 5 == 2).then(|| "GA 1".into()),
            filed_on: Some(office.clock_today().to_string()),
        };
        filed.push(
            decl::file(&mut *state.conn().await?, if i % 2 == 0 { ana } else { raj }, state.now(), &d, Via::Api)
                .await?,
        );
        office.later(3);
    }
    let mut importer_ids = Vec::new();
    for (i, (name, country)) in importers.iter().enumerate() {
        let p = crate::parties::create(
            &mut *state.conn().await?,
            raj,
            state.now(),
            &state.screening,
            PartyInput {
                legal_name: name.clone(),
                kind: PartyKind::Company.into(),
                country: (*country).into(),
                ..PartyInput::default()
            }
            .parse()
            .map_err(DomainError::Invalid)?,
        )
        .await?;
        let role = NewFilerRole {
            role: crate::declarations::FilerRole::HardwareImporter.into(),
            since: Some("2025-03-17".into()),
        };
        decl::record_filer_role(&mut *state.conn().await?, raj, state.now(), p.id, &role).await?;
        importer_ids.push(p.id);
        let (model_year, calendar_year) = if i % 3 == 0 { (None, Some(2027)) } else { (Some(2027), None) };
        let d = NewDeclaration {
            filer_id: p.id,
            kind: crate::declarations::DeclarationKind::Hardware.into(),
            model_year,
            calendar_year,
            covers: vec![format!("TCU-{:04}", 2200 + i), format!("GW-{:04}", 4100 + i)],
            certifications: certify("hardware"),
            general_authorization: None,
            filed_on: Some(office.clock_today().to_string()),
        };
        filed.push(decl::file(&mut *state.conn().await?, raj, state.now(), &d, Via::Api).await?);
        if i % 4 == 3 {
            office.later(2);
        }
    }
    // The review so far: most accepted, some under review or with questions, one deficient.
    let step = |status: crate::declarations::DeclarationStatus, reason: &str, version: i64| DeclarationStatusChange {
        status: status.into(),
        reason: reason.into(),
        version,
    };
    use crate::declarations::DeclarationStatus::{Accepted, Deficient, QuestionsAsked, UnderReview};
    for (i, d) in filed.iter().enumerate() {
        let who = if i % 2 == 0 { ana } else { raj };
        let conn = &mut *state.conn().await?;
        match i % 6 {
            0..=2 => {
                decl::set_status(conn, who, state.now(), d.id, &step(UnderReview, "", 1)).await?;
                decl::set_status(conn, who, state.now(), d.id, &step(Accepted, "", 2)).await?;
            }
            3 => {
                decl::set_status(conn, who, state.now(), d.id, &step(UnderReview, "", 1)).await?;
            }
            4 if i < 20 => {
                decl::set_status(conn, who, state.now(), d.id, &step(UnderReview, "", 1)).await?;
                let q = "Does the filer rely on General Authorization 1 for its test fleet? Send the supplier due-diligence records for the telematics control unit.";
                decl::set_status(conn, who, state.now(), d.id, &step(QuestionsAsked, q, 2)).await?;
            }
            _ => {}
        }
    }
    office.later(10);
    // One found deficient: its certification leaves out the covered software.
    let deficient = &filed[5];
    let conn = &mut *state.conn().await?;
    decl::set_status(conn, sam, state.now(), deficient.id, &step(UnderReview, "", 1)).await?;
    let why = "The certification covers the hardware only; a manufacturer's declaration must also certify the covered software (791.303).";
    decl::set_status(conn, sam, state.now(), deficient.id, &step(Deficient, why, 2)).await?;
    // One amended after a material change: a trim added.
    office.later(5);
    let first = &filed[0];
    let mut covers = first.covers.clone();
    covers.push("Voltra Crossover Sport".into());
    let amendment = DeclarationAmendment {
        declaration: NewDeclaration {
            filer_id: first.filer_id,
            kind: first.kind.into(),
            model_year: first.model_year,
            calendar_year: None,
            covers,
            certifications: first.certifications.clone(),
            general_authorization: first.general_authorization.clone(),
            filed_on: Some(office.clock_today().to_string()),
        },
        reason: "A Sport trim added to the 2027 season after the declaration was filed.".into(),
    };
    decl::amend(conn, ana, state.now(), first.id, &amendment, Via::Api).await?;
    authorization_applications(office, state, (first.filer_id, filed[1].filer_id, importer_ids[0])).await?;
    general_authorization_reliances(office, state, (&filed[2], &filed[7])).await?;
    enforcement_matters(office, state, (importer_ids[3], importer_ids[7])).await
}

/// An importer's request for an advisory opinion, completed, weighed with the modem maker's
/// letter, and answered by an opinion drafted by an analyst and issued by a supervisor; its
/// public version redacts the price.
async fn advisory_opinion(
    office: &Office,
    state: &SeedState,
    importer: crate::ids::PartyId,
) -> Result<(), DomainError> {
    use crate::opinions::model::{Conclusion, Contents, NewOpinion};
    use crate::opinions::service::{self as ao, Material, NewAct, NewRequest, Requested, SignRequest};
    let (raj, sam) = (&office.analysts[1], &office.supervisors[0]);
    office.clock.set(datetime!(2026-10-05 15:00 UTC));
    let conn = &mut *state.conn().await?;
    let r = ao::file(
        conn,
        raj,
        state.now(),
        &NewRequest {
            requester_id: Some(importer),
            question: "Is importing the GW-4100 telematics gateway, whose modem is assembled in the PRC, for model year 2028 vehicles prohibited?".into(),
            interest: "The importer would bring in about 20,000 gateways a year for two US manufacturers.".into(),
            contents: Contents {
                submitter: "Compliance counsel, +1 202 555 0100, counsel@importer.example".into(),
                submitter_address: "1 Harbor Way, Newark, NJ 07114, United States".into(),
                parties: "The importer (US); the modem's maker, a PRC contract manufacturer; two US vehicle manufacturers.".into(),
                technology: "GW-4100 telematics gateway: cellular modem, CAN gateway, firmware updated over the air; specifications attached.".into(),
                system: "GW-4100, for the manufacturers' model year 2028 crossovers.".into(),
                ..Contents::default()
            },
            filed_on: None,
        },
        "api",
    )
    .await?;
    let act = |kind: Requested, version| NewAct {
        kind: kind.into(),
        effective_on: None,
        note: String::new(),
        answers: None,
        version,
    };
    ao::record_act(conn, raj, state.now(), r.id, &act(Requested::Check, 1)).await?;
    office.later(4);
    let letter = Material {
        contents: Contents::default(),
        note: "The modem maker's letter on who builds and signs its firmware.".into(),
        source: "The modem's PRC contract manufacturer".into(),
        version: 2,
    };
    ao::add_material(conn, raj, state.now(), r.id, &letter).await?;
    office.later(6);
    let opinion = NewOpinion {
        conclusion: Conclusion::NotProhibited.into(),
        opinion: "The GW-4100's modem is VCS hardware supplied by a PRC-controlled person ([CBI]at a unit price of $41.20 under a supply contract to 2029[/CBI]). Its import for model year 2028 vehicles is not prohibited: the VCS hardware prohibition of 791.302 applies from model year 2030. The importer must still declare conformity for the year (791.305).".into(),
        version: 3,
    };
    ao::draft(conn, raj, state.now(), r.id, &opinion, state.mail).await?;
    office.later(4);
    let hash = ao::get(conn, sam, r.id).await?.draft_sha256.unwrap_or_default();
    let mut fresh = sam.clone();
    fresh.reauth_at = Some(crate::clock::Clock::now(&office.clock));
    ao::sign(conn, &fresh, state.now(), r.id, &SignRequest { content_sha256: hash }, state.mail).await?;
    Ok(())
}

/// Two manufacturers relying on GA 1 as their declarations state, one of them with its
/// first report missed (reliance void from its date), the other on time; and GA 3's list
/// with one supplier approved and one applying.
async fn general_authorization_reliances(
    office: &Office,
    state: &SeedState,
    (missed, kept): (&crate::declarations::Declaration, &crate::declarations::Declaration),
) -> Result<(), DomainError> {
    use crate::general_authorizations::model::{
        ActKind, NewAct, NewReliance, NewSupplier, SupplierDecision, SupplierStatus,
    };
    use crate::general_authorizations::service as ga;
    let (raj, sam) = (&office.analysts[1], &office.supervisors[0]);
    office.clock.set(datetime!(2026-11-24 15:00 UTC));
    let conn = &mut *state.conn().await?;
    let relied = |d: &crate::declarations::Declaration, from: &str| NewReliance {
        party_id: Some(d.filer_id),
        ga_number: "GA 1".into(),
        declaration_id: Some(d.id),
        summary: "Engineering test vehicles driven on public roads under GA 1, as the declaration states.".into(),
        relied_from: Some(from.into()),
    };
    ga::rely(conn, raj, state.now(), &relied(missed, "2026-03-10")).await?;
    let r = ga::rely(conn, raj, state.now(), &relied(kept, "2026-03-20")).await?;
    let report = NewAct {
        kind: ActKind::ReportFiled.into(),
        effective_on: Some("2026-09-10".into()),
        note: "Twelve test vehicles in Michigan and Arizona; no change of supplier.".into(),
        version: r.version,
    };
    ga::record(conn, raj, state.now(), r.id, &report).await?;
    let mut ids = Vec::new();
    for name in ["Ridgeline Modem Works Inc.", "Bluewater Antenna Systems LLC"] {
        let p = crate::parties::create(
            conn,
            raj,
            state.now(),
            &state.screening,
            PartyInput {
                legal_name: name.into(),
                kind: PartyKind::Company.into(),
                country: "US".into(),
                ..PartyInput::default()
            }
            .parse()
            .map_err(DomainError::Invalid)?,
        )
        .await?;
        ids.push(p.id);
    }
    let approved = ga::apply_supplier(
        conn,
        raj,
        state.now(),
        &NewSupplier { party_id: Some(ids[0]), applied_on: Some("2026-07-01".into()) },
    )
    .await?;
    let decision = SupplierDecision {
        status: SupplierStatus::Approved.into(),
        on: Some("2026-08-14".into()),
        reason: "Its modems are designed and made in the United States and Mexico; no PRC or Russian owner.".into(),
        version: approved.version,
    };
    ga::decide_supplier(conn, sam, state.now(), approved.id, &decision).await?;
    ga::apply_supplier(
        conn,
        raj,
        state.now(),
        &NewSupplier { party_id: Some(ids[1]), applied_on: Some("2026-11-02".into()) },
    )
    .await?;
    Ok(())
}

/// Three specific authorization applications (791.307): Voltra's, returned incomplete,
/// supplemented, questioned and granted with two conditions (one naming a third-party
/// assessor); Northbeam's, denied; and an importer's, waiting on the office's question.
async fn authorization_applications(
    office: &Office,
    state: &SeedState,
    (voltra, northbeam, importer): (crate::ids::PartyId, crate::ids::PartyId, crate::ids::PartyId),
) -> Result<(), DomainError> {
    use crate::authorizations::model::{Contents, NewCondition, NewDecision, Outcome};
    use crate::authorizations::service::{self as auth, Material, NewAct, NewApplication, Requested, SignRequest};
    let (ana, raj, sam, pat) =
        (&office.analysts[0], &office.analysts[1], &office.supervisors[0], &office.supervisors[1]);
    let conn = &mut *state.conn().await?;
    let act = |kind: Requested, note: &str, answers: Option<i64>, version: i64| NewAct {
        kind: kind.into(),
        effective_on: None,
        note: note.into(),
        answers,
        version,
    };
    let assessment = |threat: &str, mitigation: &str| {
        [
            ("threat", threat),
            ("vulnerability", "The unit reaches the vehicle network through a gateway that filters its messages."),
            (
                "consequence",
                "Location and driving data of the vehicles sold, and remote functions if the gateway failed.",
            ),
            ("mitigation", mitigation),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let signed = |who: &Actor| {
        let mut fresh = who.clone();
        fresh.reauth_at = Some(crate::clock::Clock::now(&office.clock));
        fresh
    };
    let full = |vehicles: &str, foreign: &str| {
        Contents {
        parties_and_owners: "The applicant (US, publicly held); its module supplier, Quanta Link Ltd (PRC), wholly owned by Quanta Holdings Ltd (PRC).".into(),
        foreign_items: foreign.into(),
        vehicles: vehicles.into(),
        vcs_function: "Cellular connectivity for telematics and over-the-air updates.".into(),
        analyses: "Threat analysis and risk assessment per ISO/SAE 21434, February 2026.".into(),
        access_cutoff: "The supplier has no remote access: updates are built, signed and served in the United States.".into(),
        security_standards: "ISO/SAE 21434; UN Regulation No. 155; NIST SP 800-193 for firmware resilience.".into(),
        proposed_mitigation: "Firmware escrow and review, a US-hosted update server, annual third-party audit.".into(),
    }
    };

    // Voltra: returned incomplete, supplemented, questioned, granted with conditions.
    office.clock.set(datetime!(2026-06-01 15:00 UTC));
    let assessor = crate::parties::create(
        conn,
        raj,
        state.now(),
        &state.screening,
        PartyInput {
            legal_name: "Keystone Cyber Assurance LLC".into(),
            kind: PartyKind::Company.into(),
            country: "US".into(),
            ..PartyInput::default()
        }
        .parse()
        .map_err(DomainError::Invalid)?,
    )
    .await?;
    let mut contents = full(
        "Voltra Crossover LX, Touring and Sport, model year 2027",
        "The cellular module's firmware, designed and assembled by Quanta Link Ltd (PRC).",
    );
    contents.analyses.clear();
    let v = auth::file(
        conn,
        ana,
        state.now(),
        &NewApplication {
            applicant_id: Some(voltra),
            summary: "Import and sale of model year 2027 vehicles whose telematics unit carries a PRC-designed cellular module.".into(),
            contents,
            filed_on: None,
        },
        "api",
    )
    .await?;
    auth::record_act(conn, ana, state.now(), v.id, &act(Requested::Check, "", None, 1)).await?;
    office.later(9);
    let added = Contents {
        analyses:
            "Threat analysis and risk assessment per ISO/SAE 21434, February 2026, with its vulnerability register."
                .into(),
        ..Contents::default()
    };
    let material =
        Material { contents: added, note: "Voltra's letter of 8 June 2026 with the analysis.".into(), version: 2 };
    auth::add_material(conn, ana, state.now(), v.id, &material).await?;
    auth::record_act(conn, ana, state.now(), v.id, &act(Requested::Check, "", None, 3)).await?;
    office.later(14);
    let q = "Who holds the keys that sign the module's firmware, and where?";
    let a = auth::record_act(conn, ana, state.now(), v.id, &act(Requested::QuestionAsked, q, None, 4)).await?;
    office.later(12);
    let seq = auth::get(conn, ana, state.now(), v.id).await?.acts.last().map(|x| x.seq);
    let answer = "Voltra's hardware security module in Michigan; Quanta Link holds none.";
    let a = auth::record_act(conn, ana, state.now(), v.id, &act(Requested::QuestionAnswered, answer, seq, a.version))
        .await?;
    office.later(20);
    let grant = NewDecision {
        outcome: Outcome::Granted.into(),
        reasons: "With the signing keys and the update path in the United States and a yearly independent audit, the module gives the PRC no access the conditions do not close.".into(),
        assessment: assessment(
            "The module's firmware is designed by a PRC-owned supplier subject to PRC law.",
            "Firmware escrow and review, US-held signing keys and an annual audit by an independent assessor.",
        ),
        conditions: vec![
            NewCondition {
                description: "An annual audit of the update path and the firmware escrow by the named third-party assessor, its report filed with the office.".into(),
                owner: "Voltra Motors LLC".into(),
                due_on: Some("2027-07-31".into()),
                assessor_id: Some(assessor.id),
            },
            NewCondition {
                description: "Notice to the office within 30 days of any change of the module's supplier or of the holder of the signing keys.".into(),
                owner: "Voltra Motors LLC".into(),
                due_on: None,
                assessor_id: None,
            },
        ],
        version: a.version,
    };
    let a = auth::draft_decision(conn, ana, state.now(), v.id, &grant, state.mail).await?;
    office.later(6);
    let hash = auth::get(conn, pat, state.now(), v.id).await?.draft_sha256.unwrap_or_default();
    auth::sign(conn, &signed(pat), state.now(), a.id, &SignRequest { content_sha256: hash }, state.mail).await?;

    // Northbeam: complete, denied.
    office.clock.set(datetime!(2026-08-10 15:00 UTC));
    let n = auth::file(
        conn,
        raj,
        state.now(),
        &NewApplication {
            applicant_id: Some(northbeam),
            summary: "Automated driving software of a PRC developer in model year 2027 vehicles.".into(),
            contents: full(
                "Northbeam Ranger and Ranger Max, model year 2027",
                "The driving-automation stack, developed and updated by a PRC software house.",
            ),
            filed_on: None,
        },
        "api",
    )
    .await?;
    auth::record_act(conn, raj, state.now(), n.id, &act(Requested::Check, "", None, 1)).await?;
    office.later(35);
    let deny = NewDecision {
        outcome: Outcome::Denied.into(),
        reasons: "The developer updates the software continuously from the PRC; no condition would cut off its access to the vehicles' controls.".into(),
        assessment: assessment(
            "The developer is a PRC firm that builds and updates the software.",
            "The updates cannot be reviewed before they reach the vehicles: no mitigation proposed holds the risk.",
        ),
        conditions: Vec::new(),
        version: 2,
    };
    let d = auth::draft_decision(conn, sam, state.now(), n.id, &deny, state.mail).await?;
    office.later(3);
    let hash = auth::get(conn, pat, state.now(), d.id).await?.draft_sha256.unwrap_or_default();
    auth::sign(conn, &signed(pat), state.now(), d.id, &SignRequest { content_sha256: hash }, state.mail).await?;

    // The importer asks for an advisory opinion first; it is answered, with a price kept
    // confidential in the public version.
    advisory_opinion(office, state, importer).await?;

    // An importer's, complete and waiting on the applicant's answer.
    office.clock.set(datetime!(2026-11-02 15:00 UTC));
    let w = auth::file(
        conn,
        raj,
        state.now(),
        &NewApplication {
            applicant_id: Some(importer),
            summary: "Import of telematics gateways whose modem is assembled in the PRC, for model year 2028.".into(),
            contents: full(
                "Gateway part numbers GW-4100 and GW-4101",
                "The gateway's modem, assembled by a PRC contract manufacturer.",
            ),
            filed_on: None,
        },
        "api",
    )
    .await?;
    auth::record_act(conn, raj, state.now(), w.id, &act(Requested::Check, "", None, 1)).await?;
    office.later(18);
    let q = "Please brief the office on the modem's firmware supply chain and who can update it in the field.";
    auth::record_act(conn, raj, state.now(), w.id, &act(Requested::QuestionAsked, q, None, 2)).await?;
    Ok(())
}

/// Two enforcement matters against PRC-based importers: one settled after its initial
/// finding became final, and one with a pre-penalty notice delivered on 25 November 2026,
/// whose answer date, the 30th day after, falls on Christmas Day and rolls to Monday 28
/// December.
async fn enforcement_matters(
    office: &Office,
    state: &SeedState,
    (shenzhen, harbin): (crate::ids::PartyId, crate::ids::PartyId),
) -> Result<(), DomainError> {
    use crate::enforcement::model::{NewAct, NewMatter, Provision};
    use crate::enforcement::service as enf;
    let (ana, sam) = (&office.analysts[0], &office.supervisors[0]);
    office.clock.set(datetime!(2026-12-01 15:00 UTC));
    let conn = &mut *state.conn().await?;
    let opened =
        |party, provision: Provision, summary: &str, violation_on: &str, value: &str, disclosed, on: &str| NewMatter {
            party_id: Some(party),
            provision: Some(provision.into()),
            summary: summary.into(),
            violation_on: violation_on.into(),
            transaction_value: Some(value.into()),
            self_disclosed: disclosed,
            opened_on: Some(on.into()),
            ..NewMatter::default()
        };
    let act = |kind: crate::enforcement::model::ActKind, on: &str, amount: &str, note: &str, version| NewAct {
        kind: kind.into(),
        effective_on: Some(on.into()),
        amount: Some(amount.into()).filter(|a: &String| !a.is_empty()),
        due_on: None,
        note: note.into(),
        version,
    };
    use crate::enforcement::model::ActKind::{
        FindingAnswered, FindingFinal, FindingIssued, PrePenaltyNotice, Settlement,
    };
    let h = enf::open(conn, ana, state.now(), &opened(
        harbin,
        Provision::HardwareImport,
        "Imported 2,400 telematics gateways of a PRC-controlled supplier for model year 2027 vehicles, disclosed by the importer.",
        "2026-05-20",
        "310,000",
        true,
        "2026-06-15",
    )).await?;
    let steps = [
        (
            FindingIssued,
            "2026-07-02",
            "",
            "Initial finding of violation: the gateways are VCS hardware of a PRC-controlled supplier (791.302).",
        ),
        (
            FindingAnswered,
            "2026-07-28",
            "",
            "The importer admits the imports and states the gateways were withdrawn from sale.",
        ),
        (FindingFinal, "2026-08-10", "", "The finding is final agency action."),
        (
            Settlement,
            "2026-10-15",
            "120,000",
            "Settled for $120,000, the voluntary self-disclosure and cooperation weighed.",
        ),
    ];
    for (i, (kind, on, amount, note)) in steps.into_iter().enumerate() {
        let who = if kind == FindingAnswered { ana } else { sam };
        enf::record_act(conn, who, state.now(), h.id, &act(kind, on, amount, note, i as i64 + 1)).await?;
    }
    let s = enf::open(conn, ana, state.now(), &opened(
        shenzhen,
        Provision::Declaration,
        "Imported VCS hardware for model year 2027 with no Declaration of Conformity filed before the first import (791.305).",
        "2026-04-20",
        "95,000",
        false,
        "2026-10-01",
    )).await?;
    let notice = act(
        PrePenaltyNotice,
        "2026-11-25",
        "250,000",
        "Pre-penalty notice: imports without a declaration; $250,000 proposed.",
        1,
    );
    enf::record_act(conn, sam, state.now(), s.id, &notice).await?;
    Ok(())
}

/// Why the Kaspersky review's acts are recorded long after their dates.
const MOVED_IN: &str = "Moved in from the office's paper docket; dated as on the signed record.";

/// The ICTS-2021-002 review (Kaspersky Lab, Inc.), moved in as an office moves in a case
/// that began outside the system: a supervisor enters it with its docket number, every act
/// is recorded with the date of the public record (and the reason it is recorded late), and
/// the initial and final determinations, signed on paper, are recorded from their signed
/// copies by one supervisor and confirmed by another.
async fn move_in_kaspersky(office: &Office, state: &SeedState) -> Result<(), DomainError> {
    use crate::determinations::{Kind, NewPublication, NewSending, Prohibition};
    use time::macros::date;
    let (ana, sam, pat) = (&office.analysts[0], &office.supervisors[0], &office.supervisors[1]);
    let late = || Some(MOVED_IN.to_string());
    let on = |d: time::Date| Input { date: Some(d), late_reason: late(), ..Input::default() };
    let k = office
        .file(sam, CaseInput {
            title: "Kaspersky Lab, Inc. — anti-virus software and related services".into(),
            summary: "Referred by the Department of Justice. Kaspersky anti-virus and cybersecurity products run with administrative privileges on US systems and receive updates and instructions from servers under Russian jurisdiction; Russian law can compel the company's cooperation with intelligence services.".into(),
            origin: Origin::AgencyReferral.into(),
            referring_agency: Some("DOJ".into()),
            referral_date: Some("2021-08-10".into()),
            category: "connected_software".into(),
            adversaries: vec!["RU".into()],
            docket_number: Some("ICTS-2021-002".into()),
            ..CaseInput::default()
        })
        .await?;
    service::assign(&mut *state.conn().await?, sam, state.now(), &[k.id], Some(ana.id), state.mail).await?;
    let p = |legal_name: &str, country: &str, parent: Option<crate::ids::PartyId>, pct: Option<f64>| PartyInput {
        legal_name: legal_name.into(),
        kind: PartyKind::Company.into(),
        country: country.into(),
        parent_id: parent,
        ownership_pct: pct,
        ..PartyInput::default()
    };
    let invalid = |e: Vec<crate::error::FieldError>| DomainError::Invalid(e);
    let ao = parties::create(
        &mut *state.conn().await?,
        ana,
        state.now(),
        &state.screening,
        p("AO Kaspersky Lab", "RU", None, None).parse().map_err(invalid)?,
    )
    .await?;
    let uk = parties::create(
        &mut *state.conn().await?,
        ana,
        state.now(),
        &state.screening,
        p("Kaspersky Labs Limited", "GB", Some(ao.id), Some(100.0)).parse().map_err(invalid)?,
    )
    .await?;
    let us = parties::create(
        &mut *state.conn().await?,
        ana,
        state.now(),
        &state.screening,
        p("Kaspersky Lab, Inc.", "US", Some(uk.id), Some(100.0)).parse().map_err(invalid)?,
    )
    .await?;
    for (criterion, finding) in [
        (NexusCriterion::Facilities, "Headquarters and principal research and development in Moscow."),
        (
            NexusCriterion::AdversaryLaw,
            "Subject to Russian laws that can compel assistance to the FSB and other intelligence services.",
        ),
        (
            NexusCriterion::OperationControl,
            "Software updates, threat-intelligence data and instructions are delivered from infrastructure operated from Russia.",
        ),
    ] {
        let ev = EvidenceInput {
            criterion: criterion.into(),
            adversary: "RU".into(),
            finding: finding.into(),
            source: "Public reporting; company disclosures".into(),
        };
        parties::add_evidence(&mut *state.conn().await?, ana, state.now(), ao.id, &ev).await?;
    }
    crate::cases::service::link_party(&mut *state.conn().await?, ana, state.now(), k.id, us.id, PartyRole::Supplier)
        .await?;
    crate::cases::service::link_party(&mut *state.conn().await?, ana, state.now(), k.id, ao.id, PartyRole::Owner)
        .await?;
    let known: Vec<String> = office.reference.data_categories.iter().map(|d| d.code.clone()).collect();
    let t = transactions::TransactionInput {
        item: "Kaspersky anti-virus and cybersecurity software, with update and threat-intelligence services".into(),
        kind: transactions::TransactionKind::Dealing.into(),
        status: transactions::TransactionStatus::Ongoing.into(),
        initiated_on: Some("2021-01-19".into()),
        ongoing_activity: "Signature and software updates; cloud-based threat analysis".into(),
        data_categories: vec!["private_communications".into()],
        ..transactions::TransactionInput::default()
    };
    transactions::create(&mut *state.conn().await?, ana, state.now(), k.id, t.parse(&known).map_err(invalid)?).await?;

    // Accepted on 1 September 2021: the interim rule's review, 180 days from acceptance.
    office.act(sam, k.id, Action::Accept, on(date!(2021 - 09 - 01))).await?;
    for (granted, days, why) in [
        (
            "2022-01-10",
            365,
            "Complex technical assessment with the interagency; the company's engagement requested more time.",
        ),
        ("2023-02-01", 365, "Mitigation proposals under evaluation."),
        ("2023-11-01", 365, "Evaluation of the parties' mitigation proposal and second interagency consultation."),
    ] {
        service::extend(
            &mut *state.conn().await?,
            sam,
            state.now(),
            k.id,
            crate::cases::clocks::ClockName::FinalDetermination,
            days,
            why,
            &crate::dates::When { on: Some(granted.into()), late_reason: late() },
        )
        .await?;
    }
    let agencies = ["DOJ", "DHS", "DOD", "ODNI", "STATE", "TREAS"];
    office.dated_notices(ana, k.id, "first", &agencies, date!(2022 - 04 - 15), None).await?;
    office.act(ana, k.id, Action::NotifyAgencies, on(date!(2022 - 04 - 15))).await?;
    office.answer_questions(ana, k.id, [
        "Anti-virus software and related services used by US persons: ICTS in a covered category, ongoing after 19 January 2021.",
        "Kaspersky Lab, Inc. is owned through Kaspersky Labs Limited (UK) by AO Kaspersky Lab (Russia), subject to Russian jurisdiction and direction.",
        "Administrative-level access to US systems, capability to install software and exfiltrate data; persistent and hard to mitigate.",
    ], Some("2023-01-20")).await?;
    office
        .research(
            ana,
            k.id,
            3,
            &[("c02_adversary_control", 4), ("c08_mitigation", 4), ("c09_severity", 4), ("s05_third_party_audit", 1)],
            &crate::dates::When { on: Some("2023-01-20".into()), late_reason: late() },
        )
        .await?;
    office.act(ana, k.id, Action::BeginInitialDetermination, on(date!(2023 - 02 - 01))).await?;

    // The initial determination, signed on paper on 15 September 2023 and served on 2 October.
    let mut content = office.content(ana, k.id, Kind::Initial, "prohibition").await?;
    content.title = "Initial Determination: Case No. ICTS-2021-002, Kaspersky Lab, Inc.".into();
    content.party = "Kaspersky Lab, Inc.".into();
    content.cessation = "Proposed: no new agreements 30 days after the final determination; updates and resale to end 100 days after it.".into();
    office.signed_outside(ana, (sam, pat), k.id, Kind::Initial, "prohibition", content, date!(2023 - 09 - 15)).await?;
    office
        .act(
            ana,
            k.id,
            Action::ServeInitialDetermination,
            Input {
                method: Some(crate::cases::workflow::ServiceMethod::CommercialCarrier),
                ..on(date!(2023 - 10 - 02))
            },
        )
        .await?;

    // Kaspersky answered within its 30 days and proposed mitigation, considered and rejected.
    for (kind, summary) in [
        ("written_response", "Kaspersky's written response disputing the initial determination's findings."),
        (
            "mitigation_proposal",
            "Proposed mitigation: third-party review of source code and updates, data localisation in the United States.",
        ),
    ] {
        let s = crate::proceedings::model::NewSubmission {
            kind: crate::choice::Choice::named(kind),
            received_on: "2023-11-01".into(),
            summary: summary.into(),
            party_id: Some(us.id),
            late_reason: late(),
        };
        crate::proceedings::service::add_submission(&mut *state.conn().await?, ana, state.now(), k.id, s).await?;
    }
    for (kind, description) in [
        ("third_party_monitor", "Independent third-party review of Kaspersky's source code and software updates."),
        ("data_localisation", "US customers' data processed and stored only in the United States."),
    ] {
        let m = crate::mitigation::NewMeasure {
            kind: kind.into(),
            description: description.into(),
            owner: "Kaspersky Lab, Inc.".into(),
            due_on: None,
            submission_id: None,
        };
        let m = crate::mitigation::add(&mut *state.conn().await?, ana, state.now(), k.id, m).await?;
        let s = crate::mitigation::StatusChange {
            status: crate::mitigation::MeasureStatus::Rejected.into(),
            comment: "Does not address the risk: updates and instructions would still come from infrastructure under Russian jurisdiction, and the code reviewed is not the code delivered.".into(),
            version: m.version,
            changed_on: Some("2024-03-15".into()),
            late_reason: late(),
        };
        crate::mitigation::set_status(&mut *state.conn().await?, sam, state.now(), m.id, s, state.mail).await?;
    }

    // The second interagency step: every agency concurred (consensus, as the interim rule
    // asks); the final determination was signed on 20 June 2024.
    office.dated_notices(ana, k.id, "second", &agencies, date!(2024 - 04 - 01), Some(date!(2024 - 04 - 26))).await?;
    office.act(ana, k.id, Action::CirculateFinalDetermination, on(date!(2024 - 04 - 01))).await?;
    office.act(ana, k.id, Action::BeginFinalDetermination, on(date!(2024 - 05 - 15))).await?;
    let mut content = office.content(ana, k.id, Kind::Final, "prohibited").await?;
    content.title = "Final Determination: Case No. ICTS-2021-002, Kaspersky Lab, Inc.".into();
    content.party = "Kaspersky Lab, Inc.".into();
    content.cessation = "Kaspersky Lab, Inc. and its affiliates may not enter into new agreements with US persons from 20 July 2024, and must cease software and signature updates, resale and licensing in the United States by 29 September 2024. Users of the products are not subject to penalties.".into();
    content.prohibitions = vec![
        Prohibition { description: "New agreements to provide Kaspersky anti-virus software and cybersecurity products or services to US persons".into(), effective_on: date!(2024 - 07 - 20) },
        Prohibition { description: "Software and signature updates, resale and licensing of Kaspersky products in the United States".into(), effective_on: date!(2024 - 09 - 29) },
    ];
    content.summary = "The Department of Commerce issues this final determination prohibiting transactions involving anti-virus software and cybersecurity products or services of Kaspersky Lab, Inc., its affiliates, subsidiaries and parent companies, by US persons or within the United States.".into();
    content.background = "Referred by the Department of Justice in August 2021. The company answered the initial determination in writing and proposed mitigation, which the office assessed as not sufficient to address the risk.".into();
    let fd =
        office.signed_outside(ana, (sam, pat), k.id, Kind::Final, "prohibited", content, date!(2024 - 06 - 20)).await?;
    office
        .act(
            ana,
            k.id,
            Action::IssueFinalDetermination,
            Input { comment: Some("Final determination signed 20 June 2024.".into()), ..on(date!(2024 - 06 - 20)) },
        )
        .await?;

    // Notice to the parties and the agencies, and publication at 89 FR 52434.
    use crate::determinations::{RecipientKind, SendingMethod};
    let mut sendings = vec![
        ("Kaspersky Lab, Inc.", RecipientKind::Party, SendingMethod::RegisteredMail),
        ("Kaspersky Lab, Inc.", RecipientKind::Party, SendingMethod::ElectronicMail),
    ];
    sendings.extend(
        ["Department of Justice", "Department of Homeland Security", "Department of Defense"]
            .map(|a| (a, RecipientKind::Agency, SendingMethod::ElectronicMail)),
    );
    for (recipient, kind, method) in sendings {
        let s = NewSending {
            recipient: recipient.into(),
            recipient_kind: kind.into(),
            method: method.into(),
            sent_on: Some("2024-06-20".into()),
            late_reason: late(),
        };
        crate::determinations::service::record_sending(&mut *state.conn().await?, ana, state.now(), fd, s).await?;
    }
    let p = NewPublication {
        published_on: "2024-06-24".into(),
        citation: "89 FR 52434".into(),
        document_number: "2024-13532".into(),
        late_reason: late(),
    };
    crate::determinations::service::record_publication(&mut *state.conn().await?, ana, state.now(), fd, p).await?;
    Ok(())
}
