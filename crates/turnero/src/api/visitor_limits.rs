//! Limits on what an unauthenticated visitor can make turnero do (the web chat's sessions,
//! messages and event streams): per client address and per tenant, with `governor`'s keyed
//! GCRA limiters, and a cap on event streams open at once. Over a limit: 429 with
//! `Retry-After`. Limits are per process (N processes allow N times as much).
//!
//! The client address is the connection's peer; behind a proxy on the same host or network
//! (a loopback or private peer), the first `X-Forwarded-For` entry it adds. A peer on the
//! public internet cannot claim another address that way.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

/// What a visitor does.
#[derive(Debug, Clone, Copy)]
pub enum Act {
    Session,
    Message,
    Stream,
    /// A call to an AsisteClick URL whose key names no integration (someone guessing keys).
    UnknownKey,
    /// A call to an AsisteClick URL of an integration; limited per integration by the
    /// operator's `asisteclick_requests_per_minute` (one address, AsisteClick's, may serve
    /// many clinics, so the address limit is loose).
    Integration,
}

/// Event streams one address may hold open at once.
const STREAMS_PER_ADDRESS: usize = 8;
/// Event streams one tenant's visitors may hold open at once (in this process).
const STREAMS_PER_TENANT: usize = 500;

fn quota(per_minute: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).expect("non-zero"))
        .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
}

pub struct VisitorLimits {
    per_address: [DefaultKeyedRateLimiter<IpAddr>; 5],
    per_tenant: [DefaultKeyedRateLimiter<String>; 5],
    open: Mutex<(HashMap<IpAddr, usize>, HashMap<String, usize>)>,
}

impl Default for VisitorLimits {
    fn default() -> Self {
        Self::new(crate::config::Config::default().asisteclick_requests_per_minute)
    }
}

impl VisitorLimits {
    /// `asisteclick_per_minute`: calls one AsisteClick integration may make (a sixth of it
    /// at once).
    pub fn new(asisteclick_per_minute: u32) -> Self {
        let integration = asisteclick_per_minute.max(1);
        // (per minute, burst): sessions, messages, streams opened, unknown AsisteClick keys
        // (all addresses together for the tenant side), AsisteClick calls.
        let address = [
            (20, 10),
            (60, 20),
            (30, 10),
            (30, 10),
            (
                integration.saturating_mul(10),
                (integration / 6).max(1).saturating_mul(10),
            ),
        ];
        let tenant = [
            (600, 100),
            (3000, 300),
            (1200, 200),
            (600, 100),
            (integration, (integration / 6).max(1)),
        ];
        VisitorLimits {
            per_address: address.map(|(m, b)| RateLimiter::keyed(quota(m, b))),
            per_tenant: tenant.map(|(m, b)| RateLimiter::keyed(quota(m, b))),
            open: Mutex::default(),
        }
    }
}

/// Keeps a stream counted while it is open.
pub struct OpenStream {
    limits: Arc<VisitorLimits>,
    address: IpAddr,
    tenant: String,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        if let Ok(mut open) = self.limits.open.lock() {
            if let Some(n) = open.0.get_mut(&self.address) {
                *n = n.saturating_sub(1);
            }
            if let Some(n) = open.1.get_mut(&self.tenant) {
                *n = n.saturating_sub(1);
            }
            open.0.retain(|_, n| *n > 0);
            open.1.retain(|_, n| *n > 0);
        }
    }
}

impl VisitorLimits {
    /// One `act` by a visitor at `address` of `tenant`, or 429.
    pub fn check(&self, act: Act, address: IpAddr, tenant: &str) -> Result<()> {
        let i = act as usize;
        let what = match act {
            Act::Session => "new sessions",
            Act::Message => "messages",
            Act::Stream => "event streams",
            Act::UnknownKey => "calls with unknown keys",
            Act::Integration => "calls to this integration",
        };
        // The limiter's own clock: making a new one calibrates it, which cost 5 % of the
        // AsisteClick availability calls' CPU (BENCHMARKS.md, issue #18).
        let now = self.per_address[i].clock().now();
        let limited = self.per_address[i]
            .check_key(&address)
            .err()
            .or_else(|| self.per_tenant[i].check_key(&tenant.to_string()).err());
        match limited {
            Some(not_until) => {
                let wait = not_until.wait_time_from(now).as_secs() + 1;
                Err(Error::rate_limited(what, wait))
            }
            None => Ok(()),
        }
    }

    /// Counts an event stream as open, or refuses it when too many are.
    pub fn open_stream(self: &Arc<Self>, address: IpAddr, tenant: &str) -> Result<OpenStream> {
        self.check(Act::Stream, address, tenant)?;
        let mut open = self.open.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let by_address = open.0.get(&address).copied().unwrap_or(0);
        let by_tenant = open.1.get(tenant).copied().unwrap_or(0);
        if by_address >= STREAMS_PER_ADDRESS || by_tenant >= STREAMS_PER_TENANT {
            return Err(Error::rate_limited("open event streams", 5));
        }
        *open.0.entry(address).or_default() += 1;
        *open.1.entry(tenant.to_string()).or_default() += 1;
        Ok(OpenStream {
            limits: self.clone(),
            address,
            tenant: tenant.to_string(),
        })
    }
}

/// The visitor's address (see the module's note on proxies).
pub fn client_address(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let ip = peer.ip();
    let behind_proxy = match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    if !behind_proxy {
        return ip;
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .unwrap_or(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_sessions_from_one_address_is_cut_and_others_go_on() {
        let limits = VisitorLimits::default();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "198.51.100.9".parse().unwrap();
        let taken = (0..30)
            .filter(|_| limits.check(Act::Session, a, "ten_x").is_ok())
            .count();
        assert_eq!(taken, 10, "the burst, then nothing until the quota refills");
        assert!(limits.check(Act::Session, b, "ten_x").is_ok());
    }

    #[test]
    fn only_a_nearby_proxy_may_name_the_client() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 10.0.0.2".parse().unwrap());
        let via_proxy = client_address("127.0.0.1:5000".parse().unwrap(), &h);
        assert_eq!(via_proxy, "203.0.113.7".parse::<IpAddr>().unwrap());
        let direct = client_address("198.51.100.9:5000".parse().unwrap(), &h);
        assert_eq!(direct, "198.51.100.9".parse::<IpAddr>().unwrap());
    }
}
