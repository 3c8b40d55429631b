//! The availability engine: calendar rules + policy + busy intervals → free slots.
//!
//! A pure function. It walks the calendar's local days, turns each opening range into UTC
//! instants (so DST days have the right number of real hours), steps through them every
//! `slot_interval`, and keeps a start when the service body fits the opening range, clears
//! time off, respects the policy window, and its blocked range (buffers included) leaves room
//! under the calendar's capacity.

use jiff::Timestamp;

use crate::capacity::{ConcurrencyProfile, Interval};
use crate::schedule::{Policy, ScheduleRules, ServiceTiming};

/// Everything the slot search needs; all instants are UTC.
pub struct SlotQuery<'a> {
    pub rules: &'a ScheduleRules,
    pub policy: Policy,
    pub service: ServiceTiming,
    pub capacity: u32,
    /// Blocked ranges (buffers included) of every occupying booking and live hold. Any order.
    pub busy: &'a [Interval],
    pub now: Timestamp,
    /// Only slots starting in `[range.start, range.end)` are considered.
    pub range: Interval,
    /// Page from the first slot starting at or after this instant (default: the first slot).
    pub preferred: Option<i64>,
    /// Page size (default: every slot in the range).
    pub count: Option<usize>,
}

/// One bookable start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Unix seconds, UTC.
    pub start: i64,
    pub end: i64,
    /// The calendar's UTC offset at `start`, in seconds.
    pub offset_seconds: i32,
}

/// A page of slots and whether more exist on either side of it within the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPage {
    pub slots: Vec<Slot>,
    pub has_earlier: bool,
    pub has_later: bool,
}

/// Computes the free slots for a query. See the module docs for the rules.
pub fn compute_slots(q: &SlotQuery<'_>) -> SlotPage {
    let all = all_slots(q);
    page(all, q.preferred, q.count)
}

fn all_slots(q: &SlotQuery<'_>) -> Vec<Slot> {
    let bookable = q.policy.bookable_window(q.now);
    let window = Interval::new(
        q.range.start.max(bookable.start),
        q.range.end.min(bookable.end),
    );
    let duration = q.service.duration_secs();
    let step = i64::from(q.service.slot_interval_minutes.max(1)) * 60;
    if window.start >= window.end || duration <= 0 || q.capacity == 0 {
        return Vec::new();
    }

    // Only busy ranges that can touch a blocked range starting in the window matter.
    let reach = q.service.blocked(window.start).start..q.service.blocked(window.end).end;
    let nearby: Vec<Interval> = q
        .busy
        .iter()
        .filter(|b| b.start < reach.end && b.end > reach.start)
        .copied()
        .collect();
    let mut profile = ConcurrencyProfile::new(&nearby);
    let mut time_off: Vec<Interval> = q.rules.time_off.clone();
    time_off.sort_unstable();
    let mut off_cursor = 0;

    let (Some(first_day), Some(last_day)) = (
        q.rules.local_date(window.start),
        q.rules.local_date(window.end),
    ) else {
        return Vec::new();
    };

    let mut slots = Vec::new();
    // Starts must only move forward (the busy profile and time-off cursors rely on it). Two
    // ranges that do not touch on paper can overlap in real time when the first ends inside a
    // DST gap, so a start not after the last one is skipped.
    let mut last_start = i64::MIN;
    let mut day = first_day;
    while day <= last_day {
        for range in q.rules.ranges_on(day) {
            let Some(open) = q.rules.open_interval(day, *range) else {
                continue;
            };
            let mut start = open.start;
            while start + duration <= open.end {
                if start >= window.end {
                    break;
                }
                if start > last_start && start >= window.start {
                    last_start = start;
                    let body = Interval::new(start, start + duration);
                    if clear_of(&time_off, &mut off_cursor, body)
                        && profile.max_in(q.service.blocked(start)) < q.capacity
                    {
                        slots.push(Slot {
                            start,
                            end: body.end,
                            offset_seconds: offset_at(q.rules, start),
                        });
                    }
                }
                start += step;
            }
        }
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    slots
}

/// Whether `body` misses every time-off interval; `cursor` only moves forward because
/// bodies are checked in increasing order of start.
fn clear_of(sorted_off: &[Interval], cursor: &mut usize, body: Interval) -> bool {
    while *cursor < sorted_off.len() && sorted_off[*cursor].end <= body.start {
        *cursor += 1;
    }
    sorted_off[*cursor..]
        .iter()
        .take_while(|off| off.start < body.end)
        .all(|off| !off.overlaps(&body))
}

fn offset_at(rules: &ScheduleRules, at: i64) -> i32 {
    Timestamp::from_second(at)
        .map(|t| rules.tz.to_offset(t).seconds())
        .unwrap_or(0)
}

/// The page of `all` (sorted free slots) that starts at `preferred` and holds `count`.
pub fn page(all: Vec<Slot>, preferred: Option<i64>, count: Option<usize>) -> SlotPage {
    let from = preferred.map_or(0, |p| all.partition_point(|s| s.start < p));
    let to = count.map_or(all.len(), |c| (from + c).min(all.len()));
    SlotPage {
        has_earlier: from > 0,
        has_later: to < all.len(),
        slots: all[from..to].to_vec(),
    }
}

#[cfg(test)]
mod tests;
