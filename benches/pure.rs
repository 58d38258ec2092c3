//! The pure code on the hot paths, measured with criterion: screening one name against a
//! 30,000-entry list (with an exact lookup of the same name as the reference), hashing an
//! audit event into the chain, the canonical JSON that determination hashes are taken
//! over, scoring a risk assessment, and the workflow's allowed actions.
//!
//! `cargo bench --bench pure` (reports under `target/criterion/`).

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use icts_review::access::Role;
use icts_review::audit::{StoredEvent, recompute_hash};
use icts_review::cases::workflow::{Facts, Stage, allowed};
use icts_review::parties::screening::{ScreeningIndex, normalise};

const WORDS: &[&str] = &[
    "Shenzhen", "Volga", "Neva", "Pars", "Taedong", "Lianhe", "Xinda", "Orient", "Northern", "Pacific", "Star",
    "Harbor",
];
const TRADES: &[&str] = &["Telecom", "Semiconductor", "Networks", "Software", "Electronics", "Logistics"];
const FORMS: &[&str] = &["Co., Ltd.", "Group", "JSC", "LLC", "Holdings", "Technologies"];

fn list(n: usize) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            vec![format!(
                "{} {}{} {} {}",
                WORDS[i % WORDS.len()],
                WORDS[(i / 12) % WORDS.len()],
                i,
                TRADES[(i / 7) % TRADES.len()],
                FORMS[(i / 5) % FORMS.len()]
            )]
        })
        .collect()
}

fn screening(c: &mut Criterion) {
    let entries = list(30_000);
    let index = ScreeningIndex::build(&entries);
    let exact: HashMap<Vec<String>, usize> = entries.iter().enumerate().map(|(i, e)| (normalise(&e[0]), i)).collect();
    let listed = "Volga Neva12345 Networks Holdings";
    let clean = "Great Lakes Regional Broadband Cooperative";
    c.bench_function("screening: a listed name, misspelt, against 30,000 entries", |b| {
        b.iter(|| index.screen(black_box(listed), 0.90))
    });
    c.bench_function("screening: an unlisted name against 30,000 entries", |b| {
        b.iter(|| index.screen(black_box(clean), 0.90))
    });
    c.bench_function("screening reference: exact lookup of the normalised name", |b| {
        b.iter(|| exact.contains_key(&normalise(black_box(clean))))
    });
}

fn audit_hash(c: &mut Criterion) {
    let event = StoredEvent {
        seq: 12_345_678,
        id: icts_review::ids::EventId::new(),
        at: time::macros::datetime!(2026-11-29 14:00:00.123456 UTC),
        actor_id: Some(icts_review::ids::UserId::new()),
        actor_role: Some("supervisor".into()),
        client_addr: Some("10.1.2.3".into()),
        request_id: Some("a1b2c3d4".into()),
        event_type: "case.transition".into(),
        object_type: Some("case".into()),
        object_id: Some(uuid::Uuid::now_v7().to_string()),
        changes: serde_json::json!({"action": "accept", "stage": {"before": "intake", "after": "initial_review"},
            "comment": "Accepted for initial review: the referral names a covered category."}),
        outcome: "success".into(),
        prev_hash: vec![7u8; 32],
        hash: Vec::new(),
    };
    c.bench_function("audit: hash of one event (canonical JSON + sha256)", |b| {
        b.iter(|| recompute_hash(black_box(&event)))
    });
}

fn canonical(c: &mut Criterion) {
    let findings: Vec<serde_json::Value> = (0..40)
        .map(|i| serde_json::json!({"criterion": format!("c{i}"), "finding": "The supplier's parent is subject to the jurisdiction of a foreign adversary.", "evidence": [i, i + 1]}))
        .collect();
    let content = serde_json::json!({"title": "Final Determination", "findings": findings, "penalties": "IEEPA penalties apply."});
    c.bench_function("determinations: canonical JSON of a 40-finding document", |b| {
        b.iter(|| icts_review::determinations::canonical_json(black_box(&content)))
    });
}

fn risk(c: &mut Criterion) {
    let rubric = icts_review::risk::model::version_one();
    let scores: BTreeMap<String, u8> =
        rubric.applicable(true).enumerate().map(|(i, c)| (c.code.clone(), (i % 5) as u8)).collect();
    c.bench_function("risk: composite score of a full assessment", |b| {
        b.iter(|| icts_review::risk::model::score(&rubric, true, black_box(&scores)))
    });
}

fn workflow(c: &mut Criterion) {
    let facts = Facts::default();
    c.bench_function("workflow: allowed actions in every stage", |b| {
        b.iter(|| Stage::ALL.iter().map(|s| allowed(*s, Role::Supervisor, black_box(&facts)).len()).sum::<usize>())
    });
}

criterion_group!(benches, screening, audit_hash, canonical, risk, workflow);
criterion_main!(benches);
