use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;
use crate::time::{DayRange, TimeOfDay};

fn range(a: &str, b: &str) -> DayRange {
    DayRange::new(TimeOfDay::parse(a).unwrap(), TimeOfDay::parse(b).unwrap()).unwrap()
}

fn rules(zone: &str, every_day: &[(&str, &str)]) -> ScheduleRules {
    let mut r = ScheduleRules::new(TimeZone::get(zone).unwrap());
    for day in r.weekly.iter_mut() {
        *day = every_day.iter().map(|(a, b)| range(a, b)).collect();
    }
    r
}

fn ts(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_second()
}

fn hourly() -> ServiceTiming {
    ServiceTiming {
        duration_minutes: 60,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        slot_interval_minutes: 60,
    }
}

fn query<'a>(
    rules: &'a ScheduleRules,
    busy: &'a [Interval],
    from: &str,
    to: &str,
) -> SlotQuery<'a> {
    SlotQuery {
        rules,
        policy: Policy {
            max_days_ahead: 100_000,
            ..Policy::default()
        },
        service: hourly(),
        capacity: 1,
        busy,
        now: "2000-01-01T00:00:00Z".parse().unwrap(),
        range: Interval::new(ts(from), ts(to)),
        preferred: None,
        count: None,
    }
}

fn local_labels(rules: &ScheduleRules, page: &SlotPage) -> Vec<String> {
    page.slots
        .iter()
        .map(|s| crate::time::format_local(Timestamp::from_second(s.start).unwrap(), &rules.tz))
        .collect()
}

#[test]
fn madrid_spring_forward_day_has_one_hour_less_to_offer() {
    let r = rules("Europe/Madrid", &[("01:00", "04:00")]);
    let page = compute_slots(&query(
        &r,
        &[],
        "2030-03-31T00:00:00Z",
        "2030-03-31T12:00:00Z",
    ));
    assert_eq!(
        local_labels(&r, &page),
        ["2030-03-31T01:00:00+01:00", "2030-03-31T03:00:00+02:00"]
    );
    assert_eq!(page.slots[1].start, ts("2030-03-31T01:00:00Z"));
    assert_eq!(page.slots[1].offset_seconds, 7200);
}

#[test]
fn madrid_fall_back_day_offers_the_repeated_hour_twice() {
    let r = rules("Europe/Madrid", &[("01:00", "04:00")]);
    let page = compute_slots(&query(
        &r,
        &[],
        "2030-10-26T12:00:00Z",
        "2030-10-27T12:00:00Z",
    ));
    assert_eq!(
        local_labels(&r, &page),
        [
            "2030-10-27T01:00:00+02:00",
            "2030-10-27T02:00:00+02:00",
            "2030-10-27T02:00:00+01:00",
            "2030-10-27T03:00:00+01:00"
        ]
    );
}

#[test]
fn santiago_midnight_gap_moves_the_opening_to_one_in_the_morning() {
    // 2023-09-03: clocks jumped from 00:00 to 01:00 (-04 → -03).
    let r = rules("America/Santiago", &[("00:00", "03:00")]);
    let page = compute_slots(&query(
        &r,
        &[],
        "2023-09-03T03:00:00Z",
        "2023-09-03T12:00:00Z",
    ));
    assert_eq!(
        local_labels(&r, &page),
        ["2023-09-03T01:00:00-03:00", "2023-09-03T02:00:00-03:00"]
    );
}

#[test]
fn santiago_evening_before_fall_back_runs_until_the_later_midnight() {
    // 2023-04-02 00:00 -03 became 2023-04-01 23:00 -04: 22:00–24:00 lasts three real hours.
    let r = rules("America/Santiago", &[("22:00", "24:00")]);
    let page = compute_slots(&query(
        &r,
        &[],
        "2023-04-01T12:00:00Z",
        "2023-04-02T12:00:00Z",
    ));
    assert_eq!(
        local_labels(&r, &page),
        [
            "2023-04-01T22:00:00-03:00",
            "2023-04-01T23:00:00-03:00",
            "2023-04-01T23:00:00-04:00"
        ]
    );
}

#[test]
fn sao_paulo_used_to_skip_midnight_and_no_longer_observes_dst() {
    let r = rules("America/Sao_Paulo", &[("00:00", "02:00")]);
    let old = compute_slots(&query(
        &r,
        &[],
        "2018-11-04T00:00:00Z",
        "2018-11-04T12:00:00Z",
    ));
    assert_eq!(local_labels(&r, &old), ["2018-11-04T01:00:00-02:00"]);
    let now = compute_slots(&query(
        &r,
        &[],
        "2030-11-03T00:00:00Z",
        "2030-11-03T12:00:00Z",
    ));
    assert_eq!(
        local_labels(&r, &now),
        ["2030-11-03T00:00:00-03:00", "2030-11-03T01:00:00-03:00"]
    );
}

#[test]
fn buenos_aires_slots_are_three_hours_behind_utc_all_year() {
    let r = rules("America/Argentina/Buenos_Aires", &[("09:00", "11:00")]);
    for day in ["2030-01-15", "2030-07-15"] {
        let page = compute_slots(&query(
            &r,
            &[],
            &format!("{day}T00:00:00Z"),
            &format!("{day}T23:00:00Z"),
        ));
        assert_eq!(page.slots[0].start, ts(&format!("{day}T12:00:00Z")));
        assert_eq!(page.slots.len(), 2);
        assert!(page.slots.iter().all(|s| s.offset_seconds == -3 * 3600));
    }
}

#[test]
fn a_booking_removes_its_slot_and_buffers_remove_the_neighbours() {
    let r = rules("UTC", &[("09:00", "13:00")]);
    let busy = [Interval::new(
        ts("2030-01-01T10:00:00Z"),
        ts("2030-01-01T11:00:00Z"),
    )];
    let mut q = query(&r, &busy, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z");
    let starts = |p: SlotPage| p.slots.iter().map(|s| s.start).collect::<Vec<_>>();
    assert_eq!(
        starts(compute_slots(&q)),
        [
            ts("2030-01-01T09:00:00Z"),
            ts("2030-01-01T11:00:00Z"),
            ts("2030-01-01T12:00:00Z")
        ]
    );
    q.service.buffer_after_minutes = 15;
    q.service.buffer_before_minutes = 15;
    assert_eq!(starts(compute_slots(&q)), [ts("2030-01-01T12:00:00Z")]);
}

#[test]
fn capacity_keeps_a_slot_open_until_it_is_full() {
    let r = rules("UTC", &[("09:00", "10:00")]);
    let one = Interval::new(ts("2030-01-01T09:00:00Z"), ts("2030-01-01T10:00:00Z"));
    let mut q = query(&r, &[], "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z");
    q.capacity = 2;
    let busy1 = [one];
    q.busy = &busy1;
    assert_eq!(compute_slots(&q).slots.len(), 1);
    let busy2 = [one, one];
    q.busy = &busy2;
    assert_eq!(compute_slots(&q).slots.len(), 0);
}

#[test]
fn minimum_notice_and_horizon_bound_the_offered_starts() {
    let r = rules("UTC", &[("00:00", "24:00")]);
    let mut q = query(&r, &[], "2030-01-01T00:00:00Z", "2030-01-10T00:00:00Z");
    q.now = "2030-01-01T10:30:00Z".parse().unwrap();
    q.policy = Policy {
        min_notice_minutes: 120,
        max_days_ahead: 1,
        ..Policy::default()
    };
    let page = compute_slots(&q);
    assert_eq!(
        page.slots.first().unwrap().start,
        ts("2030-01-01T13:00:00Z")
    );
    assert_eq!(page.slots.last().unwrap().start, ts("2030-01-02T10:00:00Z"));
}

#[test]
fn overrides_close_a_day_or_replace_its_hours_and_time_off_removes_overlaps() {
    let mut r = rules("UTC", &[("09:00", "12:00")]);
    r.overrides.insert(date(2030, 1, 1), vec![]);
    r.overrides
        .insert(date(2030, 1, 2), vec![range("15:00", "17:00")]);
    r.time_off.push(Interval::new(
        ts("2030-01-03T09:30:00Z"),
        ts("2030-01-03T10:30:00Z"),
    ));
    let page = compute_slots(&query(
        &r,
        &[],
        "2030-01-01T00:00:00Z",
        "2030-01-04T00:00:00Z",
    ));
    let starts: Vec<i64> = page.slots.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            ts("2030-01-02T15:00:00Z"),
            ts("2030-01-02T16:00:00Z"),
            ts("2030-01-03T11:00:00Z")
        ]
    );
}

#[test]
fn paging_from_a_preferred_instant_reports_both_sides() {
    let r = rules("UTC", &[("09:00", "17:00")]);
    let mut q = query(&r, &[], "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z");
    q.preferred = Some(ts("2030-01-01T11:30:00Z"));
    q.count = Some(3);
    let page = compute_slots(&q);
    assert_eq!(page.slots[0].start, ts("2030-01-01T12:00:00Z"));
    assert_eq!(page.slots.len(), 3);
    assert!(page.has_earlier && page.has_later);
    q.preferred = None;
    q.count = Some(8);
    let first = compute_slots(&q);
    assert!(!first.has_earlier && !first.has_later);
}

#[test]
fn ranges_that_overlap_only_because_of_a_dst_gap_never_offer_a_start_twice() {
    // 2030-03-10, New York: 02:00 jumps to 03:00, so 01:00–02:45 really ends at 03:45 EDT,
    // after 03:00–05:00 begins.
    let r = rules(
        "America/New_York",
        &[("01:00", "02:45"), ("03:00", "05:00")],
    );
    let busy = [Interval::new(
        ts("2030-03-10T06:45:00Z"),
        ts("2030-03-10T07:15:00Z"),
    )];
    let mut q = query(&r, &busy, "2030-03-10T00:00:00Z", "2030-03-10T12:00:00Z");
    q.service.duration_minutes = 30;
    q.service.slot_interval_minutes = 15;
    let page = compute_slots(&q);
    let starts: Vec<i64> = page.slots.iter().map(|s| s.start).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    for s in &page.slots {
        assert!(
            !busy[0].overlaps(&Interval::new(s.start, s.end)),
            "offered a busy slot at {}",
            s.start
        );
    }
    assert!(starts.contains(&ts("2030-03-10T07:15:00Z")));
}
