//! Configuration, layered: defaults → optional TOML file → `TURNERO_*` environment
//! variables (and `DATABASE_URL`) → command-line flags. Secrets are never logged.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    /// How often expired holds are swept (seconds).
    pub hold_sweep_seconds: u64,
    /// Connections per pool (PostgreSQL; SQLite readers).
    pub db_pool_size: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://turnero.db".into(),
            hold_sweep_seconds: 5,
            db_pool_size: 16,
        }
    }
}

impl Config {
    /// Reads the layers below the command line; `file` is optional (`turnero.toml` is read
    /// when present in the working directory).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => fig = fig.merge(Toml::file_exact(f)),
            None => fig = fig.merge(Toml::file("turnero.toml")),
        }
        fig = fig
            .merge(Env::prefixed("TURNERO_").only(&[
                "listen",
                "database_url",
                "hold_sweep_seconds",
            ]))
            .merge(Env::raw().only(&["database_url"]));
        Ok(fig.extract()?)
    }
}
