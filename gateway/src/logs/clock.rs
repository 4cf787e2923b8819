//! UTC calendar fields of a `SystemTime`, for log timestamps and log file names, without a
//! date crate. Pure; no I/O.

use std::time::{SystemTime, UNIX_EPOCH};

/// `n` with leading zeros to `width` digits (`n` has at most `width` digits).
fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// A UTC instant broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

impl Utc {
    /// Times before 1970 (a clock set wrong) read as the epoch.
    pub(super) fn from(t: SystemTime) -> Utc {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = (secs % 86_400) as u32;
        Utc {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            nanos: since.subsec_nanos(),
        }
    }

    /// `2024-01-02T03:04:05.678Z` (the `ts` of JSON lines).
    pub(super) fn rfc3339_millis(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nanos / 1_000_000
        )
    }

    /// `2024-01-02T03:04:05.678901Z`, the timestamp of tracing-subscriber's text format,
    /// appended to `out` digit by digit (once per access line: the formatter's padding cost
    /// more than the rest of the timestamp).
    pub(super) fn push_rfc3339_micros(&self, out: &mut String) {
        match u64::try_from(self.year) {
            Ok(y) if y <= 9999 => push_padded(out, y, 4),
            _ => out.push_str(itoa::Buffer::new().format(self.year)),
        }
        for (sep, n, width) in [
            ('-', self.month, 2),
            ('-', self.day, 2),
            ('T', self.hour, 2),
            (':', self.minute, 2),
            (':', self.second, 2),
            ('.', self.nanos / 1_000, 6),
        ] {
            out.push(sep);
            push_padded(out, u64::from(n), width);
        }
        out.push('Z');
    }

    /// `20240102T030405`, the prefix of request and error log names (sorts by time).
    pub(super) fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2024-01-02T03-04-05.678`, the suffix of a rotated `main-<stamp>.log` (lumberjack's).
    pub(super) fn file_stamp(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{:03}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nanos / 1_000_000
        )
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_123); // 2024-02-29T23:59:59.123Z
        let u = Utc::from(t);
        assert_eq!(u.rfc3339_millis(), "2024-02-29T23:59:59.123Z");
        let micros = |u: Utc| {
            let mut s = String::from(">");
            u.push_rfc3339_micros(&mut s);
            s
        };
        assert_eq!(micros(u), ">2024-02-29T23:59:59.123000Z");
        let t = UNIX_EPOCH + Duration::new(1_709_251_199, 7_000); // 7 µs: padded to 6 digits
        assert_eq!(micros(Utc::from(t)), ">2024-02-29T23:59:59.000007Z");
        // Past year 9999 the year is printed whole, as `{:04}` does.
        let far = Utc {
            year: 12_345,
            ..Utc::from(t)
        };
        assert_eq!(micros(far), ">12345-02-29T23:59:59.000007Z");
        assert_eq!(u.compact(), "20240229T235959");
        assert_eq!(u.file_stamp(), "2024-02-29T23-59-59.123");
        assert_eq!(
            Utc::from(UNIX_EPOCH).rfc3339_millis(),
            "1970-01-01T00:00:00.000Z"
        );
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(Utc::from(t).compact(), "20000229T000000");
    }
}
