//! The penalty's basis and the factors weighed, pure.

use serde::{Deserialize, Serialize};
use time::Date;

/// The adjusted statutory maximum in force from a date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Maximum {
    pub effective_from: Date,
    /// In cents.
    pub amount_cents: i64,
    pub citation: String,
}

/// Which amount sets the maximum penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// The adjusted statutory maximum.
    Statutory,
    /// Twice the transaction's value.
    TwiceTheValue,
}

/// A factor the office weighs in setting a penalty below the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// The violator disclosed it before the office learned of it.
    VoluntarySelfDisclosure,
    /// It was wilful or reckless.
    Wilful,
    /// It harmed national security or the integrity of the ICTS supply chain.
    Harm,
    /// The violator cooperated with the investigation.
    Cooperation,
    /// It kept a compliance program when it happened.
    ComplianceProgram,
    /// A first violation.
    FirstViolation,
}

impl Factor {
    /// Every factor.
    pub const ALL: [Factor; 6] = [
        Factor::VoluntarySelfDisclosure,
        Factor::Wilful,
        Factor::Harm,
        Factor::Cooperation,
        Factor::ComplianceProgram,
        Factor::FirstViolation,
    ];

    /// The name sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::VoluntarySelfDisclosure => "voluntary_self_disclosure",
            Factor::Wilful => "wilful",
            Factor::Harm => "harm",
            Factor::Cooperation => "cooperation",
            Factor::ComplianceProgram => "compliance_program",
            Factor::FirstViolation => "first_violation",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Factor::VoluntarySelfDisclosure => "Voluntary self-disclosure",
            Factor::Wilful => "Wilful or reckless",
            Factor::Harm => "Harm to national security or the supply chain",
            Factor::Cooperation => "Cooperation with the investigation",
            Factor::ComplianceProgram => "A compliance program in place",
            Factor::FirstViolation => "A first violation",
        }
    }

    /// Whether it weighs toward a lower penalty.
    pub fn mitigates(self) -> bool {
        !matches!(self, Factor::Wilful | Factor::Harm)
    }
}

/// The maximum civil penalty for one violation and how it was reached.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Basis {
    pub violation_on: Date,
    /// The adjusted statutory maximum in force that day.
    pub statutory: Maximum,
    /// The transaction's value, in cents.
    pub transaction_value_cents: i64,
    /// Twice it.
    pub twice_the_value_cents: i64,
    /// The greater of the two: the most the penalty may be.
    pub maximum_cents: i64,
    pub ground: Ground,
    /// The factors weighed, as given.
    pub factors: Vec<Factor>,
}

/// The basis of a penalty for a violation on `violation_on` of a transaction worth
/// `value_cents`, with the statutory maximum in force then.
pub fn basis(violation_on: Date, statutory: Maximum, value_cents: i64, factors: Vec<Factor>) -> Basis {
    let twice = value_cents.saturating_mul(2);
    let (maximum_cents, ground) = if twice > statutory.amount_cents {
        (twice, Ground::TwiceTheValue)
    } else {
        (statutory.amount_cents, Ground::Statutory)
    };
    Basis {
        violation_on,
        statutory,
        transaction_value_cents: value_cents,
        twice_the_value_cents: twice,
        maximum_cents,
        ground,
        factors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn in_2025() -> Maximum {
        Maximum { effective_from: date!(2025 - 01 - 01), amount_cents: 37_770_000, citation: String::new() }
    }

    #[test]
    fn the_penalty_may_reach_the_greater_of_the_statutory_maximum_and_twice_the_value() {
        let small = basis(date!(2025 - 06 - 01), in_2025(), 10_000_000, vec![]);
        assert_eq!((small.maximum_cents, small.ground), (37_770_000, Ground::Statutory));
        let large = basis(date!(2025 - 06 - 01), in_2025(), 25_000_000, vec![Factor::VoluntarySelfDisclosure]);
        assert_eq!((large.maximum_cents, large.ground), (50_000_000, Ground::TwiceTheValue));
        // At exactly half the maximum the two agree: the statute's amount is named.
        let even = basis(date!(2025 - 06 - 01), in_2025(), 18_885_000, vec![]);
        assert_eq!(even.ground, Ground::Statutory);
        assert!(Factor::VoluntarySelfDisclosure.mitigates() && !Factor::Wilful.mitigates());
    }
}
