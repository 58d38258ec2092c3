//! The risk rubric as versioned data and scoring as a pure function of a rubric version and
//! the criterion scores.
//!
//! Each criterion is scored 0–4 and has a weight. The composite is the weighted mean of the
//! applicable criteria scaled to 0–100, so each criterion's contribution is
//! `100 · weight · score / (4 · Σ weights)` and the contributions add up to the composite.
//! The rubric's thresholds map the composite to a band.

use std::collections::BTreeMap;

use crate::ids::{AssessmentId, OverrideId, UserId};

use serde::{Deserialize, Serialize};

/// The group a criterion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Who might do harm, and how capable and intent they are.
    Threat,
    /// The weakness the threat would use.
    Vulnerability,
    /// What the harm would be.
    Consequence,
    /// How likely the harm is.
    Likelihood,
}

/// Risk bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "risk_band", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Low,
    Moderate,
    High,
    Critical,
}

impl Band {
    /// Every band, lowest first.
    pub const ALL: [Band; 4] = [Band::Low, Band::Moderate, Band::High, Band::Critical];

    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Moderate => "moderate",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// How many levels (0–4) a criterion describes.
pub const LEVELS: usize = 5;

/// One criterion of a rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Short code, e.g. `c01_nature`.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub code: String,
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub name: String,
    /// Where it comes from (e.g. "791.103(c)(1)").
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub source: String,
    pub group: Group,
    /// Weight (positive).
    pub weight: f64,
    /// Applies only to connected software applications.
    #[serde(default)]
    pub connected_software_only: bool,
    /// What each level 0–4 means.
    #[schema(value_type = crate::text::Texts<{ crate::text::LINE }, { LEVELS }, { LEVELS }>, inline)]
    pub levels: [String; LEVELS],
}

/// Band thresholds: the lowest composite of each band above `low`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Composite from which a score is `moderate`.
    pub moderate: f64,
    /// From which it is `high`.
    pub high: f64,
    /// From which it is `critical`.
    pub critical: f64,
}

/// A rubric version's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricDefinition {
    pub criteria: Vec<Criterion>,
    /// Band thresholds.
    pub thresholds: Thresholds,
}

/// A rubric version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rubric {
    /// Version number.
    pub version: i32,
    pub name: String,
    pub definition: RubricDefinition,
}

impl RubricDefinition {
    /// Checks a definition an administrator submits.
    pub fn validate(&self) -> Result<(), String> {
        if self.criteria.is_empty() {
            return Err("a rubric needs at least one criterion".into());
        }
        let mut codes: Vec<&str> = self.criteria.iter().map(|c| c.code.as_str()).collect();
        codes.sort();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            return Err("criterion codes must be unique".into());
        }
        for c in &self.criteria {
            if c.code.is_empty()
                || c.code.len() > 40
                || !c.code.chars().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == '_')
            {
                return Err(format!(
                    "criterion code {:?} must be 1 to 40 lower-case letters, digits or underscores",
                    c.code
                ));
            }
            if !(c.weight.is_finite() && c.weight > 0.0 && c.weight <= 100.0) {
                return Err(format!("criterion {}: weight must be more than 0 and at most 100", c.code));
            }
            if c.name.trim().is_empty() || c.levels.iter().any(|l| l.trim().is_empty()) {
                return Err(format!("criterion {}: name and all five level descriptions are required", c.code));
            }
            if crate::text::too_long(&c.name, crate::text::NAME)
                || crate::text::too_long(&c.source, crate::text::LINE)
                || c.levels.iter().any(|l| crate::text::too_long(l, crate::text::LINE))
            {
                return Err(format!(
                    "criterion {}: the name may have at most {} characters, the source and each level at most {}",
                    c.code,
                    crate::text::grouped(crate::text::NAME),
                    crate::text::grouped(crate::text::LINE)
                ));
            }
        }
        if !self.criteria.iter().any(|c| !c.connected_software_only) {
            return Err("at least one criterion must apply to every category".into());
        }
        let t = &self.thresholds;
        if !(0.0 < t.moderate && t.moderate < t.high && t.high < t.critical && t.critical <= 100.0) {
            return Err("thresholds must satisfy 0 < moderate < high < critical ≤ 100".into());
        }
        Ok(())
    }

    /// The criteria that apply to a case (connected-software criteria only when the
    /// category calls for them).
    pub fn applicable(&self, connected_software: bool) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(move |c| connected_software || !c.connected_software_only)
    }

    /// The band of a composite.
    pub fn band(&self, composite: f64) -> Band {
        let t = &self.thresholds;
        if composite >= t.critical {
            Band::Critical
        } else if composite >= t.high {
            Band::High
        } else if composite >= t.moderate {
            Band::Moderate
        } else {
            Band::Low
        }
    }
}

/// One criterion's part of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contribution {
    /// Criterion code.
    pub code: String,
    /// Its score 0–4.
    pub score: u8,
    /// Points of the composite it contributes.
    pub points: f64,
    /// The most it could contribute (score 4).
    pub max_points: f64,
}

/// A computed score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Score {
    /// Composite 0–100 (two decimals).
    pub composite: f64,
    pub band: Band,
    /// Each applicable criterion's contribution; they add up to the composite.
    pub contributions: Vec<Contribution>,
}

/// Why inputs cannot be scored: the criterion and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreError {
    /// Criterion code.
    pub criterion: String,
    pub message: String,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Scores `scores` (criterion code → 0–4) under `rubric`. Every applicable criterion must
/// be scored; criteria that do not apply, or unknown codes, are refused.
pub fn score(
    rubric: &RubricDefinition,
    connected_software: bool,
    scores: &BTreeMap<String, u8>,
) -> Result<Score, Vec<ScoreError>> {
    let mut errors = Vec::new();
    let applicable: Vec<&Criterion> = rubric.applicable(connected_software).collect();
    for (code, s) in scores {
        if !applicable.iter().any(|c| &c.code == code) {
            let message = if rubric.criteria.iter().any(|c| &c.code == code) {
                "applies only to connected software applications".to_string()
            } else {
                "is not a criterion of this rubric version".to_string()
            };
            errors.push(ScoreError { criterion: code.clone(), message });
        } else if *s > 4 {
            errors.push(ScoreError { criterion: code.clone(), message: "score must be 0 to 4".into() });
        }
    }
    for c in &applicable {
        if !scores.contains_key(&c.code) {
            errors.push(ScoreError { criterion: c.code.clone(), message: "is not scored".into() });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let total_weight: f64 = applicable.iter().map(|c| c.weight).sum();
    let mut contributions = Vec::new();
    let mut composite = 0.0;
    for c in &applicable {
        let s = scores[&c.code];
        let max_points = 100.0 * c.weight / total_weight;
        let points = max_points * f64::from(s) / 4.0;
        composite += points;
        contributions.push(Contribution {
            code: c.code.clone(),
            score: s,
            points: round2(points),
            max_points: round2(max_points),
        });
    }
    let composite = round2(composite.clamp(0.0, 100.0));
    Ok(Score { composite, band: rubric.band(composite), contributions })
}

/// Rubric version 1 (also seeded by migration 0004): the ten criteria of 791.103(c) and
/// the eight connected-software criteria of 791.103(c)(2023 amendment).
pub fn version_one() -> RubricDefinition {
    serde_json::from_str(include_str!("rubric-v1.json")).expect("the bundled rubric parses")
}

/// A band override.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Override {
    pub id: OverrideId,
    /// Assessment.
    pub assessment_id: AssessmentId,
    pub proposed_band: Band,
    pub justification: String,
    /// Who proposed it.
    pub proposed_by: UserId,
    /// Who decided.
    pub decided_by: Option<UserId>,
    /// Approved?
    pub approved: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(rubric: &RubricDefinition, cs: bool, s: u8) -> BTreeMap<String, u8> {
        rubric.applicable(cs).map(|c| (c.code.clone(), s)).collect()
    }

    #[test]
    fn version_one_is_valid_and_has_the_rules_criteria() {
        let r = version_one();
        r.validate().unwrap();
        assert_eq!(r.applicable(false).count(), 10);
        assert_eq!(r.applicable(true).count(), 18);
    }

    #[test]
    fn worked_examples() {
        let r = version_one();
        // Nothing of concern anywhere: 0.
        let s = score(&r, false, &all(&r, false, 0)).unwrap();
        assert_eq!((s.composite, s.band), (0.0, Band::Low));
        // Everything at the worst level: 100.
        let s = score(&r, false, &all(&r, false, 4)).unwrap();
        assert_eq!((s.composite, s.band), (100.0, Band::Critical));
        // Every criterion at 2: exactly half.
        let s = score(&r, true, &all(&r, true, 2)).unwrap();
        assert_eq!((s.composite, s.band), (50.0, Band::High));
        // The Kaspersky-like profile: contributions add up to the composite.
        let mut k = all(&r, true, 3);
        k.insert("c02_adversary_control".into(), 4);
        k.insert("c08_mitigation".into(), 4);
        k.insert("c09_severity".into(), 4);
        k.insert("s05_third_party_audit".into(), 1);
        let s = score(&r, true, &k).unwrap();
        let sum: f64 = s.contributions.iter().map(|c| c.points).sum();
        assert!((sum - s.composite).abs() < 0.1, "{sum} vs {}", s.composite);
        assert_eq!(s.band, Band::Critical, "{}", s.composite);
        assert_eq!(s.composite, 78.29);
    }

    #[test]
    fn bands_follow_the_thresholds() {
        let r = version_one();
        assert_eq!(r.band(24.99), Band::Low);
        assert_eq!(r.band(25.0), Band::Moderate);
        assert_eq!(r.band(50.0), Band::High);
        assert_eq!(r.band(75.0), Band::Critical);
    }

    #[test]
    fn missing_unknown_and_inapplicable_criteria_are_named() {
        let r = version_one();
        let mut s = all(&r, false, 2);
        s.remove("c10_likelihood");
        s.insert("zz_astrology".into(), 1);
        s.insert("s01_military_support".into(), 2);
        s.insert("c01_nature".into(), 5);
        let errs = score(&r, false, &s).unwrap_err();
        let named: Vec<&str> = errs.iter().map(|e| e.criterion.as_str()).collect();
        assert_eq!(named, ["c01_nature", "s01_military_support", "zz_astrology", "c10_likelihood"]);
    }

    #[test]
    fn definitions_are_checked() {
        let mut r = version_one();
        r.thresholds.high = 10.0;
        assert!(r.validate().is_err());
        let mut r = version_one();
        r.criteria[1].code = r.criteria[0].code.clone();
        assert!(r.validate().is_err());
        let mut r = version_one();
        r.criteria[0].weight = 0.0;
        assert!(r.validate().is_err());
    }

    fn scores_strategy(cs: bool) -> impl Strategy<Value = BTreeMap<String, u8>> {
        let codes: Vec<String> = version_one().applicable(cs).map(|c| c.code.clone()).collect();
        proptest::collection::vec(0u8..=4, codes.len()).prop_map(move |v| codes.iter().cloned().zip(v).collect())
    }

    proptest! {
        #[test]
        fn raising_any_criterion_never_lowers_the_score(cs in any::<bool>(), base in scores_strategy(true), pick in 0usize..18) {
            let r = version_one();
            let base: BTreeMap<String, u8> = base.into_iter().filter(|(k, _)| r.applicable(cs).any(|c| &c.code == k)).collect();
            let code = base.keys().nth(pick % base.len()).unwrap().clone();
            let before = score(&r, cs, &base).unwrap();
            let mut raised = base.clone();
            let v = raised.get_mut(&code).unwrap();
            *v = (*v + 1).min(4);
            let after = score(&r, cs, &raised).unwrap();
            prop_assert!(after.composite >= before.composite);
            prop_assert!(after.band >= before.band);
        }

        #[test]
        fn the_score_stays_in_range_and_is_deterministic(s in scores_strategy(false)) {
            let r = version_one();
            let a = score(&r, false, &s).unwrap();
            let b = score(&r, false, &s.clone()).unwrap();
            prop_assert!((0.0..=100.0).contains(&a.composite));
            prop_assert_eq!(a, b);
        }
    }
}
