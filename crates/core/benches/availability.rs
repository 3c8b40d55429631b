//! A month of slots for one calendar holding 6,000 bookings (issue #2's figure: under 1 ms).
//! Easy!Appointments takes 4–5 s for this case; Cal.com's slot builder about 220 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use turnero_core::schedule::{Policy, ScheduleRules, ServiceTiming};
use turnero_core::time::{DayRange, TimeOfDay};
use turnero_core::{compute_slots, Interval, SlotQuery};

fn clinic_rules() -> ScheduleRules {
    let mut rules = ScheduleRules::new(TimeZone::get("America/Argentina/Buenos_Aires").unwrap());
    let t = |s| TimeOfDay::parse(s).unwrap();
    for day in &mut rules.weekly[..5] {
        *day = vec![
            DayRange::new(t("08:00"), t("12:30")).unwrap(),
            DayRange::new(t("14:00"), t("20:00")).unwrap(),
        ];
    }
    rules.weekly[5] = vec![DayRange::new(t("09:00"), t("13:00")).unwrap()];
    rules
}

/// 6,000 half-hour bookings spread over a year around the queried month.
fn bookings(year_start: i64) -> Vec<Interval> {
    let mut out = Vec::with_capacity(6000);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < 6000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let half_hours = (state % (365 * 48)) as i64;
        let start = year_start + half_hours * 1800;
        out.push(Interval::new(start, start + 1800));
    }
    out
}

fn month_of_slots(c: &mut Criterion) {
    let rules = clinic_rules();
    let year_start = "2030-01-01T00:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    let busy = bookings(year_start);
    let month = Interval::new(year_start + 150 * 86_400, year_start + 181 * 86_400);
    let query = SlotQuery {
        rules: &rules,
        policy: Policy {
            max_days_ahead: 3650,
            ..Policy::default()
        },
        service: ServiceTiming {
            duration_minutes: 30,
            buffer_before_minutes: 0,
            buffer_after_minutes: 5,
            slot_interval_minutes: 15,
        },
        capacity: 1,
        busy: &busy,
        now: Timestamp::from_second(year_start).unwrap(),
        range: month,
        preferred: None,
        count: None,
    };
    assert!(!compute_slots(&query).slots.is_empty());
    c.bench_function("month_of_slots_6000_bookings", |b| {
        b.iter(|| compute_slots(black_box(&query)))
    });
}

criterion_group!(benches, month_of_slots);
criterion_main!(benches);
