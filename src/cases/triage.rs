//! The preliminary triage score of cases opened by bulk intake: a quick ordering of the
//! unassigned queue from facts known at intake, labelled preliminary everywhere. It is not
//! an assessment and never feeds one.

/// What triage looks at.
#[derive(Debug, Clone, Default)]
pub struct TriageFacts<'a> {
    /// Covered-category code.
    pub category: &'a str,
    /// Adversary codes.
    pub adversaries: usize,
    /// Open or confirmed screening hits on the case's parties.
    pub screening_hits: usize,
    /// Largest number of US persons affected among its transactions.
    pub us_persons: Option<i64>,
    /// Sensitive-data categories involved.
    pub data_categories: usize,
}

/// The preliminary score 0–100.
pub fn score(f: &TriageFacts) -> i32 {
    let category = match f.category {
        "critical_infrastructure" | "network_infrastructure" => 25,
        "data_hosting" | "connected_software" | "connected_vehicles" => 20,
        "connected_devices" | "emerging_technology" => 15,
        _ => 10,
    };
    let adversaries = (10 * f.adversaries as i32).min(20);
    let hits = if f.screening_hits > 0 { 30 } else { 0 };
    let scale = match f.us_persons.unwrap_or(0) {
        n if n >= 1_000_000 => 15,
        n if n >= 100_000 => 10,
        n if n >= 1_000 => 5,
        _ => 0,
    };
    let data = (5 * f.data_categories as i32).min(10);
    (category + adversaries + hits + scale + data).clamp(0, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples() {
        let quiet = TriageFacts { category: "emerging_technology", adversaries: 1, ..Default::default() };
        assert_eq!(score(&quiet), 25);
        let loud = TriageFacts {
            category: "network_infrastructure",
            adversaries: 2,
            screening_hits: 1,
            us_persons: Some(2_000_000),
            data_categories: 3,
        };
        assert_eq!(score(&loud), 100);
        let mid = TriageFacts {
            category: "data_hosting",
            adversaries: 1,
            us_persons: Some(50_000),
            data_categories: 1,
            ..Default::default()
        };
        assert_eq!(score(&mid), 40);
    }

    #[test]
    fn more_of_anything_never_lowers_it() {
        let base = TriageFacts {
            category: "data_hosting",
            adversaries: 1,
            screening_hits: 0,
            us_persons: Some(10),
            data_categories: 0,
        };
        let s = score(&base);
        assert!(score(&TriageFacts { adversaries: 2, ..base.clone() }) >= s);
        assert!(score(&TriageFacts { screening_hits: 1, ..base.clone() }) >= s);
        assert!(score(&TriageFacts { us_persons: Some(5_000_000), ..base.clone() }) >= s);
        assert!(score(&TriageFacts { data_categories: 4, ..base.clone() }) >= s);
    }
}
