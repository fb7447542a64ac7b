//! Numbers for people: latencies with a unit that fits, rates with
//! separators.

/// 850 us, 1.23 ms, 45.6 ms, 2.35 s.
pub fn latency_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us} us"),
        1_000..=9_999 => format!("{:.2} ms", us as f64 / 1e3),
        10_000..=999_999 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

/// 12,345.6 style for rates.
pub fn rate(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    let whole = rounded.trunc() as u64;
    let tenth = ((rounded - rounded.trunc()) * 10.0).round() as u64;
    format!("{}.{tenth}", thousands(whole))
}

/// 12.3 MiB, 1.21 GiB.
pub fn bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let n = n as f64;
    if n >= 1024.0 * MIB {
        format!("{:.2} GiB", n / (1024.0 * MIB))
    } else {
        format!("{:.1} MiB", n / MIB)
    }
}

/// 1,234,567.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(latency_us(850), "850 us");
        assert_eq!(latency_us(1234), "1.23 ms");
        assert_eq!(latency_us(45_600), "45.6 ms");
        assert_eq!(latency_us(2_345_678), "2.35 s");
        assert_eq!(bytes(12 << 20), "12.0 MiB");
        assert_eq!(bytes(3 << 30), "3.00 GiB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(rate(12345.66), "12,345.7");
        assert_eq!(rate(0.04), "0.0");
    }
}
