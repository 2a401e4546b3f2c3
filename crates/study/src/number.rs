//! Numbers as a reader expects them in the report, the figures and the
//! terminal summary: fixed notation where it reads well, scientific only
//! for the very small and the very large.

/// Fixed notation with four significant figures for 1e-3 <= |v| < 1e6
/// (no decimals from 1,000 up), scientific with four significant figures
/// outside that range; "0" for zero, and "n/a" for a value that is not a
/// number.
pub fn readable(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() { "n/a".into() } else { format!("{v}") };
    }
    let magnitude = v.abs();
    if !(1e-3..1e6).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    // Rounding can carry into the next power of ten (0.99996 -> "1.0000"):
    // one decimal fewer keeps four significant figures.
    let digits = text
        .chars()
        .filter(char::is_ascii_digit)
        .skip_while(|&c| c == '0')
        .count();
    if digits > 4 && decimals > 0 {
        format!("{v:.prec$}", prec = decimals - 1)
    } else {
        text
    }
}

/// A share as a percentage with one decimal ("12.3%"); a share below 0.1%
/// that is not zero keeps two significant figures ("0.0042%"), so that it
/// does not read as nothing.
pub fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if !p.is_finite() {
        return "n/a".into();
    }
    if p == 0.0 || p.abs() >= 0.1 {
        format!("{p:.1}%")
    } else {
        let decimals = (1 - p.abs().log10().floor() as i32).max(1) as usize;
        format!("{p:.decimals$}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_between_a_thousandth_and_a_million() {
        // The values the report once showed as 5.787e0 and 6.676868e-1.
        assert_eq!(readable(5.787), "5.787");
        assert_eq!(readable(0.6676868), "0.6677");
        assert_eq!(readable(173_002.4), "173002");
        assert_eq!(readable(1234.6), "1235");
        assert_eq!(readable(-0.0012346), "-0.001235");
        assert_eq!(readable(0.001), "0.001000");
        assert_eq!(readable(999_999.4), "999999");
        assert_eq!(readable(0.99996), "1.000");
        assert_eq!(readable(9.99996), "10.00");
    }

    #[test]
    fn scientific_outside_that_range() {
        assert_eq!(readable(0.000_999), "9.990e-4");
        assert_eq!(readable(1e6), "1.000e6");
        assert_eq!(readable(-2.5e-12), "-2.500e-12");
        assert_eq!(readable(0.0), "0");
        assert_eq!(readable(f64::NAN), "n/a");
        assert_eq!(readable(f64::INFINITY), "inf");
    }

    #[test]
    fn percentages_have_one_decimal_unless_tiny() {
        assert_eq!(percent(0.123_456), "12.3%");
        assert_eq!(percent(-5.55), "-555.0%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.001), "0.1%");
        assert_eq!(percent(0.000_042_1), "0.0042%");
        assert_eq!(percent(-0.000_001_23), "-0.00012%");
        assert_eq!(percent(f64::NAN), "n/a");
    }
}
