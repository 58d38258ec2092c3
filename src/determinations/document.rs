//! The determination document: a printable page laid out like a published final
//! determination (title with case number and party, authority, the questions, the finding,
//! background with the procedural history drawn from the case's events, risk analysis,
//! the prohibited transactions with their dates, cessation, penalties), with markings at
//! top and bottom. The Federal Register form leaves out every section and document marked
//! as confidential business information. Print it, or save it as PDF from the browser.

use super::{Kind, outcome_label};
use crate::audit::{EventType, StoredEvent};
use crate::cases::model::CaseRow;

/// The authority a determination signed on `on` rests on: the regulations were 15 CFR
/// part 7 until they were redesignated part 791 on 18 July 2024.
pub fn authority(on: time::Date) -> String {
    let part = if on < time::macros::date!(2024 - 07 - 18) {
        "15 CFR part 7, subpart B"
    } else {
        "15 CFR part 791, subpart B"
    };
    format!(
        "Executive Order 13873 of May 15, 2019, Securing the Information and Communications Technology and Services Supply Chain (84 FR 22689); the International Emergency Economic Powers Act (50 U.S.C. 1701 et seq.); and {part}."
    )
}

/// The front matter of a determination's Federal Register form: agency, action, summary,
/// dates (with each prohibition's effective date), contact; the body follows as the
/// supplementary information.
pub struct FrontMatter {
    /// `15 CFR Part 7` or `15 CFR Part 791`, by the signing date.
    pub part: &'static str,
    pub agency: &'static str,
    pub action: String,
    /// CBI spans already redacted.
    pub summary: String,
    pub dates: Vec<String>,
    pub contact: String,
}

/// The front matter of a determination of `kind` signed on `signed` (none yet: a draft).
pub fn front_matter(
    kind: Kind,
    docket: &str,
    content: &super::Content,
    finding: &str,
    signed: Option<time::Date>,
    contact: &str,
) -> FrontMatter {
    let part = match signed {
        Some(on) if on < time::macros::date!(2024 - 07 - 18) => "15 CFR Part 7",
        _ => "15 CFR Part 791",
    };
    let summary = if content.summary.trim().is_empty() {
        format!(
            "The Department of Commerce issues this {} in Case No. {docket}, concerning {}. {finding}",
            kind.label().to_lowercase(),
            content.party.trim()
        )
    } else {
        redact(&content.summary, true)
    };
    let mut dates = vec![match signed {
        Some(on) => format!("This {} is effective {}.", kind.label().to_lowercase(), long_date(on)),
        None => format!("This {} takes effect on its signature.", kind.label().to_lowercase()),
    }];
    dates.extend(
        content
            .prohibitions
            .iter()
            .map(|p| format!("{}: prohibited from {}.", p.description.trim(), long_date(p.effective_on))),
    );
    FrontMatter {
        part,
        agency: "Office of Information and Communications Technology and Services, Bureau of Industry and Security, Department of Commerce.",
        action: format!("{}.", kind.label()),
        summary,
        dates,
        contact: contact.to_string(),
    }
}

/// A date as a determination prints it: "June 20, 2024".
pub fn long_date(on: time::Date) -> String {
    format!("{} {}, {}", on.month(), on.day(), on.year())
}

/// One dated line of the procedural history.
pub struct HistoryLine {
    /// Date (YYYY-MM-DD).
    pub on: String,
    /// What happened.
    pub what: String,
}

/// The procedural history of a case from its audit events (what a published
/// determination recounts: referral, acceptance, notices, service, submissions,
/// extensions, circulation, signatures).
pub fn history(c: &CaseRow, events: &[StoredEvent], agency_name: &dyn Fn(&str) -> String) -> Vec<HistoryLine> {
    let mut out = Vec::new();
    if let (Some(on), Some(a)) = (c.referral_date, &c.referring_agency) {
        out.push(HistoryLine {
            on: on.to_string(),
            what: format!("{} referred the matter to the office.", agency_name(a)),
        });
    }
    // The date the act took effect, not the day it was recorded.
    let day = |e: &StoredEvent| {
        crate::cases::model::act_date_of(&e.changes).unwrap_or_else(|| crate::dates::today(e.at)).to_string()
    };
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    for e in events {
        let ch = &e.changes;
        let Some(event_type) = e.kind() else { continue };
        let line = match event_type {
            EventType::CaseCreated if c.referral_date.is_none() => Some("The review was opened.".to_string()),
            EventType::CaseTransition => match ch.get("action").and_then(|a| a.as_str()).unwrap_or("") {
                "accept" => Some(format!("The office accepted the matter for review ({}).", s(ch, "rule_version"))),
                "notify_agencies" => {
                    Some("The office notified the appropriate agency heads (first interagency step).".into())
                }
                "serve_initial_determination" => {
                    let on = s(ch, "served_on");
                    out.push(HistoryLine {
                        on: if on.is_empty() { day(e) } else { on },
                        what: format!(
                            "The initial determination was served on the parties ({}).",
                            s(ch, "method").replace('_', " ")
                        ),
                    });
                    None
                }
                "circulate_final_determination" => {
                    Some("The proposed final determination was circulated to the agencies for concurrence.".into())
                }
                "proceed_without_response" => Some(
                    "The parties did not respond within 30 days; the review proceeded to the final determination."
                        .into(),
                ),
                "issue_final_determination" => Some("The final determination was issued.".into()),
                "breach_recorded" => {
                    Some("A breach of a mitigation measure reopened the determination for review.".into())
                }
                _ => None,
            },
            EventType::SubmissionReceived => {
                let on = s(ch, "received_on");
                let what = match s(ch, "kind").as_str() {
                    "written_response" => "The parties responded in writing.",
                    "mitigation_proposal" => "The parties proposed mitigation measures.",
                    "meeting_request" => "The parties requested a meeting.",
                    _ => "The parties made a submission.",
                };
                out.push(HistoryLine { on: if on.is_empty() { day(e) } else { on }, what: what.into() });
                None
            }
            EventType::DeterminationSent => Some(format!(
                "The {} was sent to {} by {}.",
                Kind::parse(&s(ch, "kind")).map(|k| k.label().to_lowercase()).unwrap_or_else(|| "determination".into()),
                s(ch, "recipient"),
                s(ch, "method").replace('_', " ")
            )),
            EventType::DeterminationPublished => Some(format!(
                "The {} was published in the Federal Register at {} (FR Doc. {}).",
                Kind::parse(&s(ch, "kind")).map(|k| k.label().to_lowercase()).unwrap_or_else(|| "determination".into()),
                s(ch, "citation"),
                s(ch, "document_number")
            )),
            EventType::CaseEmergencyDeviation => Some(format!(
                "The procedure was deviated from in an emergency (7.100(e) / 791.100(e)): {}",
                s(ch, "justification")
            )),
            EventType::CaseResponseComplete => {
                Some("Every party served filed its written response; the response was recorded as complete.".into())
            }
            EventType::CaseRuleSet => Some(format!(
                "The review was kept under {} (the rule in force on acceptance was {}): {}",
                ch.get("rule_version").map(|r| s(r, "after")).unwrap_or_default(),
                s(ch, "in_force_on_acceptance"),
                s(ch, "reason")
            )),
            EventType::CaseClockExtended => Some(format!(
                "The time for the final determination was extended by {} days in writing.",
                ch.get("days").and_then(|d| d.as_i64()).unwrap_or(0)
            )),
            EventType::DeterminationSigned => {
                let kind = Kind::parse(&s(ch, "kind")).map(|k| k.label()).unwrap_or("A determination");
                let outcome = outcome_label(&s(ch, "outcome")).to_lowercase();
                Some(match ch.get("signer").and_then(|v| v.as_str()) {
                    Some(signer) => format!("{kind} signed by {signer} ({outcome}; signed outside the system)."),
                    None => format!("{kind} signed ({outcome})."),
                })
            }
            _ => None,
        };
        if let Some(what) = line {
            out.push(HistoryLine { on: day(e), what });
        }
    }
    out.sort_by(|a, b| a.on.cmp(&b.on));
    out
}

/// The finding a determination states.
pub fn finding(kind: Kind, outcome: &str, party: &str) -> String {
    match (kind, outcome) {
        (Kind::Initial, "prohibition") => format!(
            "The office has initially determined that the ICTS transactions involving {party} described below pose an undue or unacceptable risk, and proposes that they be prohibited."
        ),
        (Kind::Initial, _) => format!(
            "The office has initially determined that the ICTS transactions involving {party} described below pose an undue or unacceptable risk, and proposes measures to mitigate that risk."
        ),
        (_, "prohibited") => format!(
            "The ICTS transactions involving {party} described below pose an undue or unacceptable risk and are prohibited."
        ),
        (_, "not_prohibited") => format!(
            "The ICTS transactions involving {party} described below do not pose an undue or unacceptable risk and are not prohibited."
        ),
        (_, "permitted_with_mitigation") => format!(
            "The ICTS transactions involving {party} described below are permitted, subject to the mitigation measures set out in this determination, as the least restrictive means of addressing the risk."
        ),
        (_, _) => "The final determination identified below is revoked.".to_string(),
    }
}

/// Opens a span of confidential business information inside a section's text.
pub const CBI_OPEN: &str = "[CBI]";
/// Closes it.
pub const CBI_CLOSE: &str = "[/CBI]";

/// A section's text for the form being printed: the internal form keeps each CBI span,
/// marked `[CBI: …]`; the Federal Register form prints `[CBI redacted]` in its place. A span
/// left open runs to the end of the text (nothing confidential leaks through a typo).
pub fn redact(text: &str, publication: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(CBI_OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + CBI_OPEN.len()..];
        let (span, next) = match after.find(CBI_CLOSE) {
            Some(j) => (&after[..j], &after[j + CBI_CLOSE.len()..]),
            None => (after, ""),
        };
        if publication {
            out.push_str("[CBI redacted]");
        } else {
            out.push_str("[CBI: ");
            out.push_str(span);
            out.push(']');
        }
        rest = next;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbi_spans_are_redacted_in_the_public_form_only() {
        let t = "Revenue of [CBI]$4.2 million[/CBI] from [CBI]three resellers[/CBI] in the US.";
        assert_eq!(redact(t, true), "Revenue of [CBI redacted] from [CBI redacted] in the US.");
        assert_eq!(redact(t, false), "Revenue of [CBI: $4.2 million] from [CBI: three resellers] in the US.");
        assert_eq!(redact("open [CBI]to the end", true), "open [CBI redacted]");
        assert_eq!(redact("nothing marked", true), "nothing marked");
    }

    #[test]
    fn the_authority_cites_the_part_in_force_on_the_signing_date() {
        use time::macros::date;
        assert!(authority(date!(2024 - 06 - 20)).contains("15 CFR part 7, subpart B"));
        assert!(authority(date!(2024 - 07 - 18)).contains("15 CFR part 791, subpart B"));
    }
}
