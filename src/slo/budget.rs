//! What a burn rate costs, in the error budget's own terms (SRE Workbook ch. 5): at burn rate `b`
//! over a window of `P`, the budget goes at `b ÷ P` per hour and is gone after `P ÷ b`; the whole
//! budget is `(1 − objective) × P` of full outage. Exact, like the rules' thresholds.

use crate::profile::slo::{Exact, Objective};
use crate::profile::PromDuration;

/// The share of the window's budget spent per hour at `burn` (0.02 for 14.4× over 30d).
pub fn share_per_hour(burn: Exact, window: &PromDuration) -> Exact {
    burn * Exact::ratio(3_600, i128::from(window.as_secs()))
}

/// Seconds until a full budget is spent at `burn` (50 h for 14.4× over 30d).
pub fn exhaustion_secs(burn: Exact, window: &PromDuration) -> Exact {
    Exact::int(i128::from(window.as_secs())) / burn
}

/// The full outage the whole window's budget allows, in seconds (43.2 min for 99.9% over 30d).
pub fn allowed_downtime_secs(objective: &Objective, window: &PromDuration) -> Exact {
    objective.error_budget() * Exact::int(i128::from(window.as_secs()))
}

/// Seconds at `burn` until `share` of the budget is spent.
pub fn secs_to_spend(share: Exact, burn: Exact, window: &PromDuration) -> Exact {
    share * exhaustion_secs(burn, window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::slo::TIERS;
    use crate::profile::types::parse_literal;

    fn d(text: &str) -> PromDuration {
        parse_literal(text)
    }
    fn o(text: &str) -> Objective {
        text.parse().unwrap()
    }
    fn x(text: &str) -> Exact {
        Exact::parse_decimal(text, 6).unwrap()
    }

    #[test]
    fn burn_rates_cost_what_the_workbook_says() {
        // 14.4× over 30d (720 h): 2% per hour, exhausted in 50 h; over 28d (672 h): 2.14%, 46.7 h.
        assert_eq!(share_per_hour(x("14.4"), &d("30d")).to_string(), "0.02");
        assert_eq!(exhaustion_secs(x("14.4"), &d("30d")).to_string(), "180000");
        assert_eq!(share_per_hour(x("14.4"), &d("28d")).decimal(6), "0.021429");
        assert_eq!(
            (exhaustion_secs(x("14.4"), &d("28d")) / Exact::int(3600)).decimal(2),
            "46.67"
        );
        // 6× over 30d: 5% in 6 h, i.e. 0.833% per hour; exhausted in 5 days.
        assert_eq!(
            (share_per_hour(x("6"), &d("30d")) * Exact::int(6)).to_string(),
            "0.05"
        );
        assert_eq!(exhaustion_secs(x("6"), &d("30d")).to_string(), "432000");
    }

    #[test]
    fn the_tiers_spend_their_budget_share_in_their_long_window_at_28d_and_30d() {
        for window in [d("28d"), d("30d")] {
            for tier in &TIERS {
                let burn = tier.burn_rate(&window);
                let in_long =
                    share_per_hour(burn, &window) * Exact::ratio(i128::from(tier.long_secs), 3600);
                assert_eq!(in_long, tier.budget, "{} {window}", tier.describe());
            }
        }
        // 13.44× is the 28d page: the same 2% per hour, exhausted in 50 h.
        assert_eq!(
            exhaustion_secs(TIERS[0].burn_rate(&d("28d")), &d("28d")).to_string(),
            "180000"
        );
    }

    #[test]
    fn allowed_downtime_follows_objective_and_window() {
        let minutes = |obj: &str, w: &str| {
            (allowed_downtime_secs(&o(obj), &d(w)) / Exact::int(60)).to_string()
        };
        assert_eq!(minutes("99.9", "30d"), "43.2");
        assert_eq!(minutes("99.9", "28d"), "40.32");
        assert_eq!(minutes("99.95", "30d"), "21.6");
        assert_eq!(minutes("99.99", "30d"), "4.32");
        assert_eq!(minutes("99.5", "30d"), "216");
        assert_eq!(minutes("99.5", "28d"), "201.6");
        assert_eq!(minutes("95", "30d"), "2160");
        assert_eq!(minutes("95", "28d"), "2016");
    }

    #[test]
    fn time_to_spend_a_share() {
        // 20% of a 30d budget at 14.4×: 10 h; at a full outage of a 99.9% SLO (1000×): 8.64 min.
        let w = d("30d");
        assert_eq!(secs_to_spend(x("0.2"), x("14.4"), &w).to_string(), "36000");
        assert_eq!(
            secs_to_spend(x("0.2"), Exact::int(1) / o("99.9").error_budget(), &w).to_string(),
            "518.4"
        );
    }
}
