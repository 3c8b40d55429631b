//! A calendar's rules: weekly hours, date overrides, time off, and the booking policy.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::capacity::Interval;
use crate::time::DayRange;

/// When a calendar is open, in its own time zone.
#[derive(Debug, Clone)]
pub struct ScheduleRules {
    pub tz: TimeZone,
    /// Index 0 is Monday. Ranges are sorted and do not overlap.
    pub weekly: [Vec<DayRange>; 7],
    /// Replaces the weekly hours on that local date; an empty list means closed all day.
    pub overrides: BTreeMap<Date, Vec<DayRange>>,
    /// Periods (UTC) when the calendar is unavailable whatever its hours say. Any order.
    pub time_off: Vec<Interval>,
}

/// Rules about when people may book, cancel and reschedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A slot must start at least this long after "now".
    pub min_notice_minutes: u32,
    /// A slot must start before "now" plus this many days.
    pub max_days_ahead: u32,
    /// Cancelling is refused this close to the start.
    pub cancel_cutoff_minutes: u32,
    /// Rescheduling is refused this close to the (current) start.
    pub reschedule_cutoff_minutes: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_notice_minutes: 0,
            max_days_ahead: 90,
            cancel_cutoff_minutes: 0,
            reschedule_cutoff_minutes: 0,
        }
    }
}

impl Policy {
    /// The instants a slot start must fall in, as `[earliest, latest)`.
    pub fn bookable_window(&self, now: Timestamp) -> Interval {
        let now = now.as_second();
        Interval::new(
            now + i64::from(self.min_notice_minutes) * 60,
            now + i64::from(self.max_days_ahead) * 86_400,
        )
    }
}

/// How long a service takes and how much room it needs around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTiming {
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// Distance between offered start times; usually the duration.
    pub slot_interval_minutes: u32,
}

impl ServiceTiming {
    pub fn duration_secs(&self) -> i64 {
        i64::from(self.duration_minutes) * 60
    }

    /// The range a booking at `start` keeps the calendar busy for, buffers included.
    pub fn blocked(&self, start: i64) -> Interval {
        Interval::new(
            start - i64::from(self.buffer_before_minutes) * 60,
            start + self.duration_secs() + i64::from(self.buffer_after_minutes) * 60,
        )
    }
}

impl ScheduleRules {
    pub fn new(tz: TimeZone) -> Self {
        Self {
            tz,
            weekly: Default::default(),
            overrides: BTreeMap::new(),
            time_off: Vec::new(),
        }
    }

    /// The opening ranges that apply on a local date.
    pub fn ranges_on(&self, date: Date) -> &[DayRange] {
        match self.overrides.get(&date) {
            Some(ranges) => ranges,
            None => &self.weekly[date.weekday().to_monday_zero_offset() as usize],
        }
    }

    /// The UTC instants a local day range covers on `date`.
    ///
    /// A start inside a DST gap moves forward past the gap, an ambiguous time takes its
    /// first occurrence (jiff's "compatible" rule), and 24:00 is the next local midnight.
    pub fn open_interval(&self, date: Date, range: DayRange) -> Option<Interval> {
        let start = self.local_instant(date, range.start.minutes())?;
        let end = self.local_instant(date, range.end.minutes())?;
        (start < end).then(|| Interval::new(start, end))
    }

    fn local_instant(&self, date: Date, minutes: u16) -> Option<i64> {
        let (date, minutes) = if minutes >= 1440 {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, minutes)
        };
        let dt = date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
        self.tz.to_timestamp(dt).ok().map(|t| t.as_second())
    }

    /// The calendar's local date at an instant.
    pub fn local_date(&self, at: i64) -> Option<Date> {
        Timestamp::from_second(at)
            .ok()
            .map(|t| self.tz.to_datetime(t).date())
    }

    /// Whether `[start, end)` lies inside one opening range and clear of time off.
    pub fn is_open_for(&self, body: Interval) -> bool {
        let Some(date) = self.local_date(body.start) else {
            return false;
        };
        let inside_hours = self
            .ranges_on(date)
            .iter()
            .filter_map(|r| self.open_interval(date, *r))
            .any(|open| open.start <= body.start && body.end <= open.end);
        inside_hours && !self.time_off.iter().any(|off| off.overlaps(&body))
    }
}
