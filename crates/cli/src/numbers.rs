//! Value parsers for numeric flags: a bad number is refused with the flag
//! and the reason (`invalid value '-1' for '--size-kb <SIZE_KB>': negative:
//! give a whole number, 0 or more`), where clap's own parsers would print
//! a bare usage line for `-1` or "invalid digit found in string".
//! Negative numbers reach these parsers (`allow_negative_numbers`, or
//! `allow_hyphen_values` for durations, on each flag) so that they can be
//! named as negative.

use std::str::FromStr;

/// A whole number, 0 or more.
pub fn whole<T>(text: &str) -> Result<T, String>
where
    T: FromStr + TryFrom<u64> + Copy,
{
    let text = text.trim();
    if text.starts_with('-') {
        return Err("negative: give a whole number, 0 or more".to_owned());
    }
    let number: u64 = text.parse().map_err(|_| {
        if text.contains('.') {
            "not a whole number (no fractions)".to_owned()
        } else {
            "not a whole number".to_owned()
        }
    })?;
    T::try_from(number).map_err(|_| format!("{number} is too large for this flag"))
}

/// A whole number, 1 or more: a count of which none means nothing.
pub fn at_least_one<T>(text: &str) -> Result<T, String>
where
    T: FromStr + TryFrom<u64> + Copy,
{
    if text.trim() == "0" {
        return Err("must be at least 1".to_owned());
    }
    whole(text)
}

/// A rate per second: a finite number above 0 (fractions allowed).
pub fn per_second(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| "not a number per second".to_owned())?;
    if !rate.is_finite() || rate <= 0.0 {
        return Err("must be a number above 0 per second".to_owned());
    }
    Ok(rate)
}

/// A duration with its unit (`30s`, `250ms`, `2m`), 0 or more.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("negative: give a duration of 0 or more, e.g. 30s".to_owned());
    }
    humantime::parse_duration(text).map_err(|err| err.to_string())
}

/// A duration with its unit, more than 0 (a timeout of 0 would close
/// every connection at once).
pub fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match duration(text)? {
        d if d.is_zero() => {
            Err("0 would close every connection at once: give more than 0, e.g. 60s".to_owned())
        }
        d => Ok(d),
    }
}

/// A metrics address: PORT (on loopback: nothing is exposed beyond this
/// host unless asked) or IP:PORT.
pub fn metrics_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!("'{text}' is not a port or IP:PORT (e.g. 9100, 0.0.0.0:9100, [::1]:9100)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_numbers_say_why() {
        assert_eq!(whole::<u64>("512"), Ok(512));
        assert_eq!(whole::<u64>("0"), Ok(0));
        assert!(whole::<u64>("-1").unwrap_err().contains("negative"));
        assert!(whole::<u64>("1.5").unwrap_err().contains("no fractions"));
        assert!(
            whole::<u64>("lots")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(whole::<u16>("70000").unwrap_err().contains("too large"));
        assert!(at_least_one::<u32>("0").unwrap_err().contains("at least 1"));
        assert_eq!(at_least_one::<u32>("3"), Ok(3));
        assert_eq!(per_second("0.5"), Ok(0.5));
        assert!(per_second("-5").unwrap_err().contains("above 0"));
        assert!(per_second("inf").unwrap_err().contains("above 0"));
        assert!(per_second("fast").unwrap_err().contains("not a number"));
        assert_eq!(duration("2s"), Ok(std::time::Duration::from_secs(2)));
        assert!(duration("-5s").unwrap_err().contains("negative"));
        assert!(duration("5").unwrap_err().contains("unit"));
    }
}
