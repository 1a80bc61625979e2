//! UTC calendar dates to and from seconds since the epoch (certificate expiries as kubeadm and openssl print them).
//!
//! Both tools print English month abbreviations and UTC times; no time
//! zone database is needed, only the proleptic Gregorian calendar.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub const DAY: i64 = 86_400;

/// 1..=12 for an English month abbreviation (`Dec`).
pub fn month(name: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// Seconds since the epoch of a UTC date and time; None for an impossible one.
pub fn seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * DAY + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

/// (year, month, day, seconds into the day) of seconds since the epoch.
pub fn civil(secs: i64) -> (i64, u32, u32, i64) {
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    (y, m, d, secs.rem_euclid(DAY))
}

/// `Dec 17, 2026 14:13 UTC`: the form kubeadm prints expiries in.
pub fn format(secs: i64) -> String {
    let (y, m, d, rest) = civil(secs);
    format!(
        "{} {d:02}, {y} {:02}:{:02} UTC",
        MONTHS[m as usize - 1],
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Whole days from `now` until `then`, rounded down (negative once past).
pub fn days_left(then: i64, now: i64) -> i64 {
    (then - now).div_euclid(DAY)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in(y: i64, m: u32) -> u32 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (date, seconds since the epoch, as kubeadm prints it)
    #[test]
    fn dates_from_fixtures() {
        let table = [
            ((1970, 1, 1, 0, 0, 0), 0, "Jan 01, 1970 00:00 UTC"),
            (
                (2020, 12, 30, 23, 36, 0),
                1_609_371_360,
                "Dec 30, 2020 23:36 UTC",
            ),
            (
                (2024, 2, 29, 12, 0, 59),
                1_709_208_059,
                "Feb 29, 2024 12:00 UTC",
            ),
            (
                (2035, 8, 17, 9, 3, 0),
                2_070_954_180,
                "Aug 17, 2035 09:03 UTC",
            ),
        ];
        for ((y, mo, d, h, mi, s), want, shown) in table {
            assert_eq!(seconds(y, mo, d, h, mi, s), Some(want), "{shown}");
            assert_eq!(format(want), shown);
        }
        assert_eq!(seconds(2023, 2, 29, 0, 0, 0), None);
        assert_eq!(seconds(2023, 13, 1, 0, 0, 0), None);
        assert_eq!(seconds(2023, 1, 1, 24, 0, 0), None);
        assert_eq!(month("Dec"), Some(12));
        assert_eq!(month("dec"), None);
    }

    #[test]
    fn days_left_round_down_and_go_negative() {
        assert_eq!(days_left(10 * DAY - 1, 0), 9);
        assert_eq!(days_left(10 * DAY, 0), 10);
        assert_eq!(days_left(0, 1), -1);
    }
}
