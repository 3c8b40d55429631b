//! When a failed delivery is tried again. The default schedule is Svix's, which consumers
//! already expect: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each delay
//! jittered by ±20 % so a recovering receiver is not hit by every retry at once.

use rand::Rng;

/// Seconds before each attempt; the first entry is the first attempt (normally 0).
pub const DEFAULT_SCHEDULE: &[u64] = &[0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/// A `Retry-After` longer than this is not honoured beyond it.
const MAX_RETRY_AFTER_SECS: u64 = 24 * 3600;

/// The delay in milliseconds before attempt number `attempts_made + 1`, or `None` when the
/// schedule is used up. `retry_after` (seconds, from the response) stretches the delay when
/// it asks for longer than the schedule.
pub fn next_delay_ms(
    schedule: &[u64],
    attempts_made: u32,
    retry_after: Option<u64>,
) -> Option<u64> {
    let base = *schedule.get(attempts_made as usize)?;
    let jittered = (base as f64 * 1000.0 * rand::rng().random_range(0.8..=1.2)) as u64;
    let asked = retry_after.map_or(0, |s| s.min(MAX_RETRY_AFTER_SECS) * 1000);
    Some(jittered.max(asked))
}

/// `Retry-After` as delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now_secs: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = jiff::fmt::rfc2822::parse(value)
        .ok()?
        .timestamp()
        .as_second();
    Some(u64::try_from(at - now_secs).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_the_schedule_within_twenty_percent() {
        for (made, base) in [(1u32, 5_000u64), (2, 300_000), (7, 36_000_000)] {
            let d = next_delay_ms(DEFAULT_SCHEDULE, made, None).unwrap();
            assert!(d >= base * 8 / 10 && d <= base * 12 / 10, "{made}: {d}");
        }
        assert_eq!(next_delay_ms(DEFAULT_SCHEDULE, 8, None), None);
    }

    #[test]
    fn retry_after_stretches_a_shorter_delay_but_never_shortens_one() {
        assert!(next_delay_ms(&[0, 1], 1, Some(120)).unwrap() >= 120_000);
        assert!(next_delay_ms(&[0, 300], 1, Some(1)).unwrap() >= 240_000);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        assert_eq!(parse_retry_after("30", 0), Some(30));
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let later = jiff::fmt::rfc2822::to_string(
            &(now + jiff::SignedDuration::from_secs(90)).to_zoned(jiff::tz::TimeZone::UTC),
        )
        .unwrap();
        assert_eq!(parse_retry_after(&later, now.as_second()), Some(90));
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
