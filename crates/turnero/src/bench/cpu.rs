//! CPU time from /proc: a set of processes' own, and every PostgreSQL process's on this
//! machine, for `bench processes`.

use std::time::Instant;

/// CPU time so far, in clock ticks: the servers', and every PostgreSQL process's on this
/// machine (with the finished backends the postmaster has reaped).
pub(super) struct Cpu {
    servers: u64,
    postgres: u64,
    at: Instant,
}

/// Linux's USER_HZ: /proc counts CPU time in hundredths of a second.
const TICKS_PER_SECOND: f64 = 100.0;

impl Cpu {
    pub(super) fn read(servers: &[u32]) -> Self {
        let servers_ticks = servers.iter().map(|&p| proc_ticks(p).1).sum();
        let postgres = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .map(proc_ticks)
            .filter(|(name, _)| name == "postgres")
            .map(|(_, t)| t)
            .sum();
        Cpu {
            servers: servers_ticks,
            postgres,
            at: Instant::now(),
        }
    }

    pub(super) fn since(&self, servers: &[u32]) -> CpuSpent {
        let now = Cpu::read(servers);
        CpuSpent {
            servers_ms: now.servers.saturating_sub(self.servers) as f64 * 1000.0 / TICKS_PER_SECOND,
            postgres_ms: now.postgres.saturating_sub(self.postgres) as f64 * 1000.0
                / TICKS_PER_SECOND,
            wall_ms: self.at.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

pub(super) struct CpuSpent {
    servers_ms: f64,
    postgres_ms: f64,
    wall_ms: f64,
}

impl CpuSpent {
    pub(super) fn per(&self, n: usize) -> String {
        let n = n.max(1) as f64;
        format!(
            "{:.3} / {:.3} ms (over {:.1} s: servers {:.0}% and PostgreSQL {:.0}% of one core)",
            self.servers_ms / n,
            self.postgres_ms / n,
            self.wall_ms / 1000.0,
            self.servers_ms / self.wall_ms * 100.0,
            self.postgres_ms / self.wall_ms * 100.0
        )
    }
}

/// A process's name and its CPU ticks, its reaped children's included.
fn proc_ticks(pid: u32) -> (String, u64) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (String::new(), 0);
    };
    // "pid (name) state ppid …": the name may hold spaces, so split after its ')'.
    let name = stat
        .split_once('(')
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map_or("", |(name, _)| name)
        .to_string();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    // After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    let ticks = (11..=14)
        .filter_map(|i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    (name, ticks)
}
