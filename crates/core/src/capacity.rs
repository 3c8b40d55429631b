//! Intervals and how many of them overlap at once.
//!
//! A calendar with capacity N accepts a booking when, at every instant of its blocked range,
//! fewer than N other occupying bookings are in progress. Both the slot finder and the
//! transactional booking check use [`max_concurrency`], so they can never disagree.

/// A half-open interval `[start, end)` in Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: i64,
    pub end: i64,
}

impl Interval {
    pub fn new(start: i64, end: i64) -> Self {
        Self { start, end }
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The largest number of `busy` intervals in progress at one instant inside `window`.
pub fn max_concurrency(busy: &[Interval], window: Interval) -> u32 {
    let mut edges: Vec<(i64, i32)> = busy
        .iter()
        .filter(|b| b.overlaps(&window))
        .flat_map(|b| [(b.start.max(window.start), 1), (b.end.min(window.end), -1)])
        .collect();
    // Ends sort before starts at the same instant: back-to-back bookings do not overlap.
    edges.sort_unstable();
    let (mut now, mut max) = (0i32, 0i32);
    for (_, delta) in edges {
        now += delta;
        max = max.max(now);
    }
    max as u32
}

/// Concurrency as a step function, for answering many increasing windows quickly.
///
/// Built once per slot search; `max_in` is amortised O(1) when windows are asked in
/// increasing order of start, which is how slots are generated.
pub struct ConcurrencyProfile {
    /// `(from, count)`: `count` intervals are in progress from `from` until the next step.
    steps: Vec<(i64, u32)>,
    cursor: usize,
}

impl ConcurrencyProfile {
    pub fn new(busy: &[Interval]) -> Self {
        let mut edges: Vec<(i64, i32)> = busy
            .iter()
            .filter(|b| b.start < b.end)
            .flat_map(|b| [(b.start, 1), (b.end, -1)])
            .collect();
        edges.sort_unstable();
        let mut steps: Vec<(i64, u32)> = Vec::with_capacity(edges.len());
        let mut count = 0i32;
        for (at, delta) in edges {
            count += delta;
            match steps.last_mut() {
                Some(last) if last.0 == at => last.1 = count as u32,
                _ => steps.push((at, count as u32)),
            }
        }
        Self { steps, cursor: 0 }
    }

    /// Largest count inside `window`. Windows must be asked with non-decreasing `start`.
    pub fn max_in(&mut self, window: Interval) -> u32 {
        // Move the cursor to the last step starting at or before the window.
        while self.cursor + 1 < self.steps.len() && self.steps[self.cursor + 1].0 <= window.start {
            self.cursor += 1;
        }
        let mut max = 0;
        let mut i = self.cursor;
        while i < self.steps.len() && self.steps[i].0 < window.end {
            let (from, count) = self.steps[i];
            let until = self.steps.get(i + 1).map_or(i64::MAX, |s| s.0);
            if until > window.start && from < window.end {
                max = max.max(count);
            }
            i += 1;
        }
        max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(a, b)
    }

    #[test]
    fn back_to_back_intervals_never_count_as_overlapping() {
        assert_eq!(max_concurrency(&[iv(0, 10), iv(10, 20)], iv(0, 20)), 1);
    }

    #[test]
    fn two_intervals_that_do_not_meet_inside_the_window_count_once() {
        // One at the start of the window, one at the end: never both at once.
        assert_eq!(max_concurrency(&[iv(0, 5), iv(15, 20)], iv(0, 20)), 1);
        assert_eq!(max_concurrency(&[iv(0, 15), iv(5, 20)], iv(0, 20)), 2);
    }

    #[test]
    fn intervals_outside_the_window_are_ignored() {
        assert_eq!(max_concurrency(&[iv(0, 5), iv(30, 40)], iv(5, 30)), 0);
    }

    #[test]
    fn the_profile_agrees_with_the_direct_count_for_increasing_windows() {
        let busy = [iv(0, 30), iv(10, 20), iv(15, 45), iv(50, 60), iv(55, 70)];
        let mut profile = ConcurrencyProfile::new(&busy);
        for start in (0..80).step_by(5) {
            let w = iv(start, start + 12);
            assert_eq!(profile.max_in(w), max_concurrency(&busy, w), "window {w:?}");
        }
    }
}
