//! The `turnero` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::agenda::tenants::{self, NewTenant};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

#[derive(Parser)]
#[command(
    name = "turnero",
    version,
    about = "Appointment engine with a chat-first booking bot"
)]
struct Cli {
    /// A TOML file with settings (default: ./turnero.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP service (migrations run first).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on [env: TURNERO_LISTEN] [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manages tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manages a tenant's API keys (as `/api/v1/api-keys` does).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manages the staff who sign in to the console (`/console`).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fills the database with a demo clinic and prints its API key.
    Demo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Writes a consistent copy of a live SQLite database to FILE (PostgreSQL: pg_dump).
    Backup {
        /// Where the copy goes; it must not exist yet.
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Load benchmarks against an in-process server (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: crate::bench::BenchCommand,
    },
}

#[derive(Args)]
struct DbArgs {
    /// `sqlite://FILE` or `postgres://…` [env: DATABASE_URL] [default: sqlite://turnero.db].
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Creates a tenant and prints its id and a new API key (shown only once).
    Create {
        #[arg(long)]
        name: String,
        /// Default IANA zone for its calendars.
        #[arg(long, default_value = "America/Argentina/Buenos_Aires")]
        timezone: String,
        /// Region for phone numbers written without a country code.
        #[arg(long, default_value = "AR")]
        region: String,
        /// es, pt or en.
        #[arg(long, default_value = "es")]
        locale: String,
        /// Print `{"tenant_id": …, "api_key": …}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Makes a staff account. The password is read from stdin; with nothing there, one is
    /// generated and printed (only now).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin, reception or professional.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The console's language for them: es, pt or en.
        #[arg(long, default_value = "es")]
        locale: String,
        /// A professional's own calendar (repeat for several).
        #[arg(long = "calendar")]
        calendars: Vec<String>,
        /// Print `{"id", "email", "role"}`, with `"password"` when it was generated.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Makes a key and prints it (shown only once).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Print `{"id", "name", "key"}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lists the tenant's working keys: id, name, prefix, last used.
    List {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revokes a key (not the tenant's last one).
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The database as a person can find it again: a SQLite file by its absolute path, any
/// other URL without its password.
fn database_shown(url: &str) -> String {
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(file) => {
            let file = file.split('?').next().unwrap_or(file);
            let path = std::path::Path::new(file);
            let absolute = std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf());
            format!("sqlite://{}", absolute.display())
        }
        None => crate::db::redact_url(url),
    }
}

async fn keys(config: &mut Config, command: KeyCommand) -> anyhow::Result<()> {
    use crate::agenda::api_keys;
    let (tenant, db_args) = match &command {
        KeyCommand::Create { tenant, db, .. }
        | KeyCommand::List { tenant, db }
        | KeyCommand::Revoke { tenant, db, .. } => (tenant.clone(), db.database_url.clone()),
    };
    apply(
        config,
        DbArgs {
            database_url: db_args,
        },
    );
    let db = Db::connect(&config.database_url, config.db_pool_size).await?;
    eprintln!("database: {}", database_shown(&config.database_url));
    let tenant = turnero_core::ids::TenantId::parse(&tenant)
        .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    tenants::get(&db, &tenant)
        .await
        .map_err(|_| anyhow::anyhow!("no tenant {tenant} in this database"))?;
    let now = Clock::system().now_secs();
    let done = match command {
        KeyCommand::Create { name, json, .. } => {
            let (k, key) = api_keys::create(&db, &tenant, name.trim(), now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", problem_text(e)))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": k.id, "name": k.name, "key": key})
                );
            } else {
                println!(
                    "id:  {}\nkey: {key}\n(the key is shown only now; it is stored hashed)",
                    k.id
                );
            }
            Ok(())
        }
        KeyCommand::List { .. } => {
            for k in api_keys::list(&db, &tenant)
                .await
                .map_err(|e| anyhow::anyhow!("{}", problem_text(e)))?
            {
                let used = k
                    .last_used_at
                    .map(turnero_core::time::fmt_ts)
                    .unwrap_or_else(|| "never".into());
                println!("{}  {}…  {}  last used {used}", k.id, k.prefix, k.name);
            }
            Ok(())
        }
        KeyCommand::Revoke { id, .. } => api_keys::revoke(&db, &tenant, &id, now)
            .await
            .map_err(|e| anyhow::anyhow!("{}", problem_text(e))),
    };
    db.close().await;
    done
}

async fn users(config: &mut Config, command: UserCommand) -> anyhow::Result<()> {
    use crate::agenda::staff::{self, NewStaff, Role};
    use std::io::{IsTerminal, Read};
    let UserCommand::Create {
        tenant,
        email,
        role,
        locale,
        calendars,
        json,
        db,
    } = command;
    apply(config, db);
    let role = Role::parse(&role)
        .ok_or_else(|| anyhow::anyhow!("--role: admin, reception or professional"))?;
    let calendars = calendars
        .iter()
        .map(|c| {
            turnero_core::ids::CalendarId::parse(c).map_err(|e| anyhow::anyhow!("--calendar: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let tenant = turnero_core::ids::TenantId::parse(&tenant)
        .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    // A password piped in (`echo … |`); a terminal is never read, so nothing is echoed.
    let mut given = String::new();
    if !std::io::stdin().is_terminal() {
        std::io::stdin().read_to_string(&mut given)?;
    }
    let given = given.trim_end_matches(['\r', '\n']).to_string();
    let generated = given.is_empty().then(staff::generate_password);
    let password = generated.clone().unwrap_or(given);
    let db = Db::connect(&config.database_url, config.db_pool_size).await?;
    eprintln!("database: {}", database_shown(&config.database_url));
    tenants::get(&db, &tenant)
        .await
        .map_err(|_| anyhow::anyhow!("no tenant {tenant} in this database"))?;
    let made = staff::create(
        &db,
        &tenant,
        NewStaff {
            email,
            password,
            role,
            locale,
            calendars,
        },
        Clock::system().now_secs(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", problem_text(e)));
    db.close().await;
    let made = made?;
    if json {
        let mut out =
            serde_json::json!({"id": made.id, "email": made.email, "role": made.role.as_str()});
        if let Some(p) = &generated {
            out["password"] = p.clone().into();
        }
        println!("{out}");
    } else {
        println!(
            "id:       {}\nemail:    {}\nrole:     {}",
            made.id,
            made.email,
            made.role.as_str()
        );
        if let Some(p) = &generated {
            println!("password: {p}\n(the password is shown only now; it is stored hashed)");
        }
        println!("sign in at /console/login");
    }
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    let mut config = Config::load(cli.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { db, listen } => {
                apply(&mut config, db);
                if let Some(l) = listen {
                    config.listen = l;
                }
                let running = crate::app::start(&config, Clock::system()).await?;
                // On stdout, for people and for scripts that started us on port 0.
                say(&format!("turnero listening on {}", running.url()));
                stop_signal().await;
                tracing::info!("stopping: finishing requests in flight");
                running.shutdown().await?;
                say("turnero stopped");
                Ok(())
            }
            Command::Tenant { command: TenantCommand::Create { name, timezone, region, locale, json, db } } => {
                apply(&mut config, db);
                crate::api::tenant::validate_settings(Some(&timezone), Some(&region), Some(&locale))
                    .map_err(|e| anyhow::anyhow!("{}", problem_text(e)))?;
                let name = name.trim().to_string();
                anyhow::ensure!(!name.is_empty(), "--name must not be empty");
                let db = Db::connect(&config.database_url, config.db_pool_size).await?;
                let new = NewTenant { name, timezone, phone_region: region.to_ascii_uppercase(), locale };
                let (tenant, key) = tenants::create(&db, new, Clock::system().now_secs()).await.map_err(|e| anyhow::anyhow!("{}", problem_text(e)))?;
                // Which database: a key made in another directory's ./turnero.db is refused
                // by a server on this one.
                let database = database_shown(&config.database_url);
                if json {
                    println!("{}", serde_json::json!({"tenant_id": tenant.id, "api_key": key, "database": database}));
                } else {
                    println!("tenant_id: {}\napi_key:   {key}\ndatabase:  {database}\n(the key is shown only now; it is stored hashed)", tenant.id);
                }
                db.close().await;
                Ok(())
            }
            Command::Key { command } => keys(&mut config, command).await,
            Command::User { command } => users(&mut config, command).await,
            Command::Demo { db } => {
                apply(&mut config, db);
                crate::demo::run(&config).await
            }
            Command::Backup { file, db } => {
                apply(&mut config, db);
                let db = Db::connect(&config.database_url, 2).await?;
                let written = db.backup_to(&file).await;
                db.close().await;
                let bytes = written?;
                println!("backup of {} written to {} ({bytes} bytes)", database_shown(&config.database_url), file.display());
                Ok(())
            }
            Command::Bench { command } => crate::bench::run(command).await,
        }
    })
}

/// A line on stdout; a closed stdout (the reader went away) must not stop the server.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|_| out.flush());
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn apply(config: &mut Config, db: DbArgs) {
    if let Some(url) = db.database_url {
        config.database_url = url;
    }
}

fn problem_text(e: crate::error::Error) -> String {
    match e {
        crate::error::Error::Problem(p) => format!("{}: {}", p.field.unwrap_or_default(), p.detail),
        crate::error::Error::Internal(e) => format!("{e:#}"),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TURNERO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
