//! Exact rational arithmetic for error budgets: an objective of `99.9` is 999/10, its budget 1/1000,
//! and the 1h critical threshold 14.4 × 1/1000 = 0.0144 exactly (binary floats would print
//! 0.014400000000000001). Inputs are bounded at load time (objectives have at most 10 decimals,
//! windows are whole seconds), so numerators and denominators stay far inside `i128`.

use std::cmp::Ordering;
use std::fmt;

/// An exact fraction, always reduced, with a positive denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Exact {
    num: i128,
    den: i128,
}

/// Fraction digits of [`Exact::decimal`] for numbers whose decimal expansion does not end.
pub const DISPLAY_DIGITS: u32 = 12;

impl Exact {
    /// `num / den`; `den` must not be 0.
    pub const fn ratio(num: i128, den: i128) -> Exact {
        assert!(den != 0, "denominator is zero");
        let g = gcd(num, den);
        let (num, den) = (num / g, den / g);
        if den < 0 {
            Exact {
                num: -num,
                den: -den,
            }
        } else {
            Exact { num, den }
        }
    }

    pub const fn int(n: i128) -> Exact {
        Exact { num: n, den: 1 }
    }

    /// Parses a plain decimal such as `99.9`, `95` or `0.5` (no sign, no exponent), with at most
    /// `max_fraction_digits` digits after the point.
    pub fn parse_decimal(text: &str, max_fraction_digits: usize) -> Option<Exact> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || (text.contains('.') && fraction.is_empty())
            || fraction.len() > max_fraction_digits
            || whole.len() > 18
        {
            return None;
        }
        let num: i128 = format!("{whole}{fraction}").parse().ok()?;
        Some(Exact::ratio(num, 10i128.pow(fraction.len() as u32)))
    }

    pub fn numerator(self) -> i128 {
        self.num
    }

    pub fn denominator(self) -> i128 {
        self.den
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    /// The largest integer ≤ self.
    pub fn floor(self) -> i128 {
        self.num.div_euclid(self.den)
    }

    /// The nearest `f64` (through the decimal text, so 43.2 becomes the double that prints 43.2).
    pub fn to_f64(self) -> f64 {
        self.decimal(17)
            .parse()
            .unwrap_or(self.num as f64 / self.den as f64)
    }

    /// The decimal expansion: exact when it ends within `max_digits` fraction digits, else rounded
    /// half away from zero to `max_digits`. Trailing zeros are dropped: 0.0144, 43.2, 1500000.
    pub fn decimal(self, max_digits: u32) -> String {
        let negative = self.num < 0;
        let den = self.den.unsigned_abs();
        let mut whole = self.num.unsigned_abs() / den;
        let mut rem = self.num.unsigned_abs() % den;
        // Long division, digit by digit: nothing grows beyond 10 × the denominator.
        let mut digits = Vec::with_capacity(max_digits as usize);
        for _ in 0..max_digits {
            rem *= 10;
            digits.push((rem / den) as u8);
            rem %= den;
        }
        if rem * 2 >= den && rem != 0 {
            // Round half away from zero, carrying into the whole part when every digit is 9.
            let mut i = digits.len();
            loop {
                if i == 0 {
                    whole += 1;
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let sign = if negative && (whole != 0 || !digits.is_empty()) {
            "-"
        } else {
            ""
        };
        if digits.is_empty() {
            format!("{sign}{whole}")
        } else {
            let fraction: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            format!("{sign}{whole}.{fraction}")
        }
    }
}

const fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    if a == 0 {
        1
    } else {
        a
    }
}

impl std::ops::Add for Exact {
    type Output = Exact;
    fn add(self, o: Exact) -> Exact {
        Exact::ratio(self.num * o.den + o.num * self.den, self.den * o.den)
    }
}

impl std::ops::Sub for Exact {
    type Output = Exact;
    fn sub(self, o: Exact) -> Exact {
        Exact::ratio(self.num * o.den - o.num * self.den, self.den * o.den)
    }
}

impl std::ops::Mul for Exact {
    type Output = Exact;
    fn mul(self, o: Exact) -> Exact {
        // Cross-reduce first so intermediate products stay small.
        let g1 = gcd(self.num, o.den);
        let g2 = gcd(o.num, self.den);
        Exact::ratio(
            (self.num / g1) * (o.num / g2),
            (self.den / g2) * (o.den / g1),
        )
    }
}

impl std::ops::Div for Exact {
    type Output = Exact;
    fn div(self, o: Exact) -> Exact {
        assert!(o.num != 0, "division by zero");
        self * Exact::ratio(o.den, o.num)
    }
}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Exact) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Exact) -> Ordering {
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decimal(DISPLAY_DIGITS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Exact {
        Exact::parse_decimal(text, 10).unwrap()
    }

    #[test]
    fn burn_thresholds_print_as_exact_decimals() {
        let budget = (Exact::int(100) - d("99.9")) / Exact::int(100);
        assert_eq!(budget.to_string(), "0.001");
        assert_eq!((d("14.4") * budget).to_string(), "0.0144");
        assert_eq!((d("6") * budget).to_string(), "0.006");
        // The float way gets this wrong; the exact way does not.
        assert_ne!(format!("{}", 14.4 * (1.0 - 0.999)), "0.0144");
        let burn_28d = Exact::ratio(2, 100) * Exact::ratio(28 * 24, 1);
        assert_eq!(burn_28d.to_string(), "13.44");
    }

    #[test]
    fn decimals_parse_exactly_and_refuse_other_notations() {
        assert_eq!(d("99.9"), Exact::ratio(999, 10));
        assert_eq!(d("95"), Exact::int(95));
        assert_eq!(d("0.5"), Exact::ratio(1, 2));
        for bad in [
            "", ".", "1.", ".5", "-1", "+1", "1e3", "9 9", "99.9.9", "nan",
        ] {
            assert_eq!(Exact::parse_decimal(bad, 10), None, "{bad:?}");
        }
        assert_eq!(Exact::parse_decimal("99.12345678901", 10), None);
    }

    #[test]
    fn non_terminating_decimals_round_and_integers_stay_integers() {
        assert_eq!(Exact::ratio(7, 30).to_string(), "0.233333333333");
        assert_eq!(Exact::ratio(2, 3).decimal(2), "0.67");
        assert_eq!(Exact::int(1_500_000).to_string(), "1500000");
        assert_eq!(Exact::ratio(-1, 2).to_string(), "-0.5");
        assert_eq!(Exact::ratio(-1, 3000).decimal(2), "0");
        assert_eq!(Exact::ratio(432, 10).to_f64(), 43.2);
        assert_eq!(Exact::ratio(7, 2).floor(), 3);
        assert!(Exact::ratio(1, 3) < Exact::ratio(1, 2));
    }
}
