//! A tenant's quiet hours: no reminder at 3 am local time. A message due inside them goes
//! when they end, unless that is after the appointment (then it is skipped, and says so).

use jiff::tz::TimeZone;
use sqlx::Row;
use turnero_core::ids::TenantId;

use crate::db::Db;
use crate::error::Result;

/// Local minutes of the day: from `from` until `to` (wrapping midnight when `from > to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: u16,
    pub to: u16,
}

impl QuietHours {
    /// If `at` falls inside the quiet hours in `tz`, the instant they end.
    pub fn ends_after(&self, at: i64, tz: &TimeZone) -> Option<i64> {
        let local = jiff::Timestamp::from_second(at).ok()?.to_zoned(tz.clone());
        let m = local.hour() as u16 * 60 + local.minute() as u16;
        let inside = if self.from <= self.to {
            (self.from..self.to).contains(&m)
        } else {
            m >= self.from || m < self.to
        };
        if !inside {
            return None;
        }
        let day = if m < self.to {
            local.date()
        } else {
            local.date().tomorrow().ok()?
        };
        let end = day
            .at((self.to / 60) as i8, (self.to % 60) as i8, 0, 0)
            .to_zoned(tz.clone())
            .ok()?;
        Some(end.timestamp().as_second())
    }
}

pub async fn quiet_hours(db: &Db, tenant: &TenantId) -> Result<Option<QuietHours>> {
    let row =
        sqlx::query("SELECT quiet_from, quiet_to FROM notification_settings WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&db.read)
            .await?;
    Ok(row.and_then(|r| {
        let (from, to): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
        Some(QuietHours {
            from: u16::try_from(from?).ok()?,
            to: u16::try_from(to?).ok()?,
        })
    }))
}

pub async fn set_quiet_hours(
    db: &Db,
    tenant: &TenantId,
    quiet: Option<QuietHours>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_settings (tenant_id, quiet_from, quiet_to, updated_at, \
         link_secret) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET \
         quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(quiet.map(|q| i64::from(q.from)))
    .bind(quiet.map(|q| i64::from(q.to)))
    .bind(now)
    .bind(crate::secrets::random_hex(32))
    .execute(&db.write)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn quiet_hours_across_midnight_end_at_their_local_end_even_across_a_clock_change() {
        let q = QuietHours {
            from: 21 * 60,
            to: 8 * 60,
        };
        let tz = TimeZone::get("America/Sao_Paulo").unwrap();
        // 03:00 local (-03:00) is quiet until 08:00 the same day.
        assert_eq!(
            q.ends_after(at("2030-01-07T06:00:00Z"), &tz),
            Some(at("2030-01-07T11:00:00Z"))
        );
        // 22:00 local waits until 08:00 the next day; 12:00 local is not quiet.
        assert_eq!(
            q.ends_after(at("2030-01-08T01:00:00Z"), &tz),
            Some(at("2030-01-08T11:00:00Z"))
        );
        assert_eq!(q.ends_after(at("2030-01-07T15:00:00Z"), &tz), None);
        // New York springs forward on 2030-03-10: 08:00 EDT is 12:00 UTC.
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            q.ends_after(at("2030-03-10T06:00:00Z"), &ny),
            Some(at("2030-03-10T12:00:00Z"))
        );
    }
}
