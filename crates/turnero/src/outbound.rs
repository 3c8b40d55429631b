//! Every HTTP request turnero makes to someone else's server goes through [`Outbound`]:
//! a reqwest client that refuses private, loopback, link-local and other non-public
//! destinations unless the operator allow-lists them (`TURNERO_OUTBOUND_ALLOW`, CIDRs).
//!
//! Names are resolved by our own resolver, which drops refused addresses before reqwest
//! connects, so the address that was checked is the address that is used (no DNS rebinding
//! between check and connect). IP literals never reach a resolver, so [`Outbound::check_url`]
//! checks them; callers run it before every request. Redirects are never followed: a 3xx
//! could point anywhere.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Why a destination is refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error(
        "{0} is a private, loopback or reserved address; allow-list it with TURNERO_OUTBOUND_ALLOW"
    )]
    Private(IpAddr),
}

/// Ranges that are never the public internet.
const BLOCKED: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::/96",
    "::ffff:0:0/96",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    "2001:db8::/32",
    "2002::/16",
];

#[derive(Debug, Clone)]
pub struct Guard {
    allow: Vec<IpNet>,
    blocked: Vec<IpNet>,
}

impl Guard {
    /// `allow` is a comma-separated list of CIDRs (or single addresses); blank allows none.
    pub fn new(allow: &str) -> anyhow::Result<Self> {
        let allow = allow
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("outbound_allow: `{s}` is not a CIDR"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let blocked = BLOCKED
            .iter()
            .map(|b| b.parse().expect("valid CIDR"))
            .collect();
        Ok(Self { allow, blocked })
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        // An IPv4 address wrapped in IPv6 (::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d) is
        // judged as the IPv4 address it reaches.
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                // NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::a.b.c.d, ::/96).
                None if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    || (v6.segments()[..6] == [0; 6] && v6.segments()[6] != 0) =>
                {
                    let o = v6.octets();
                    IpAddr::V4([o[12], o[13], o[14], o[15]].into())
                }
                None => ip,
            },
            v4 => v4,
        };
        if self.allow.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        if self.blocked.iter().any(|n| n.contains(&ip)) {
            return Err(Refused::Private(ip));
        }
        Ok(())
    }

    /// Scheme and, for IP-literal hosts, the address. Named hosts are checked when resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme);
        }
        match url.host() {
            None => Err(Refused::NoHost),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
        }
    }
}

/// Resolves with the system resolver, then keeps only the addresses the guard allows.
struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match guard.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(e) => Box::new(e),
                    None => format!("{host} has no address").into(),
                };
                return Err(err);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The guarded client plus the guard for checking URLs before a request.
#[derive(Clone)]
pub struct Outbound {
    pub guard: Arc<Guard>,
    pub client: reqwest::Client,
}

impl Outbound {
    pub fn new(allow: &str, timeout: Duration, user_agent: &str) -> anyhow::Result<Self> {
        let guard = Arc::new(Guard::new(allow)?);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(user_agent)
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self { guard, client })
    }

    /// Parses and checks a URL for an outbound request.
    pub fn check_url(&self, raw: &str) -> Result<Url, Refused> {
        let url = Url::parse(raw).map_err(|_| Refused::NoHost)?;
        self.guard.check_url(&url)?;
        Ok(url)
    }
}

/// Whether an error from reqwest came from the guard refusing every resolved address.
pub fn is_refused(err: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<Refused>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused_by_default() {
        let g = Guard::new("").unwrap();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(g.check_ip(ip(bad)).is_err(), "{bad} should be refused");
        }
        for good in ["8.8.8.8", "200.45.1.1", "2800:3f0:4001:80b::200e"] {
            assert!(g.check_ip(ip(good)).is_ok(), "{good} should pass");
        }
    }

    #[test]
    fn the_old_ipv4_compatible_form_of_a_private_address_is_refused_too() {
        let g = Guard::new("").unwrap();
        for bad in [
            "::7f00:1",
            "::a00:1",
            "::c0a8:101",
            "::a9fe:a9fe",
            "::ffff:a9fe:a9fe",
        ] {
            assert!(g.check_ip(ip(bad)).is_err(), "{bad} should be refused");
        }
        // And written into a URL, where no resolver sees it.
        assert!(g
            .check_url(&Url::parse("http://[::127.0.0.1]:8080/").unwrap())
            .is_err());
    }

    #[test]
    fn the_allow_list_opens_exactly_its_ranges() {
        let g = Guard::new("127.0.0.0/8, 10.0.0.5").unwrap();
        assert!(g.check_ip(ip("127.0.0.1")).is_ok());
        assert!(g.check_ip(ip("10.0.0.5")).is_ok());
        assert!(g.check_ip(ip("10.0.0.6")).is_err());
        assert!(Guard::new("not-a-cidr").is_err());
    }

    #[test]
    fn urls_need_http_and_a_public_literal_address() {
        let g = Guard::new("").unwrap();
        let check = |u: &str| g.check_url(&Url::parse(u).unwrap());
        assert!(check("https://example.com/hook").is_ok());
        assert!(matches!(check("ftp://example.com/"), Err(Refused::Scheme)));
        assert!(matches!(
            check("http://127.0.0.1:8080/"),
            Err(Refused::Private(_))
        ));
        assert!(matches!(check("http://[::1]/"), Err(Refused::Private(_))));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_before_connecting() {
        let out = Outbound::new("", Duration::from_secs(2), "turnero-test").unwrap();
        let err = out
            .client
            .get("http://localhost:9/")
            .send()
            .await
            .unwrap_err();
        assert!(is_refused(&err), "{err:?}");
    }
}
