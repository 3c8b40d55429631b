//! Several statements, one call to the database where the backend allows it.

use std::borrow::Cow;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::AnyConnection;

/// Write statements sent together. On SQLite they go to the connection's worker thread as
/// one multi-statement call, which saves a thread hand-off per statement on the single
/// writer; on PostgreSQL, whose extended protocol takes one statement per call, they run one
/// after another. Parts use `$1…` for their own arguments; SQLite numbers `$N` across the
/// whole string, so each part's placeholders are shifted past the arguments before it.
/// (No part may contain a `$` inside a string literal.)
#[derive(Default)]
pub struct Batch {
    parts: Vec<(Cow<'static, str>, AnyArguments<'static>)>,
}

/// Builds `AnyArguments` from owned values: `args![id, name, now]?`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut a = sqlx::any::AnyArguments::default();
        (|| -> Result<sqlx::any::AnyArguments<'static>, sqlx::Error> {
            $( sqlx::Arguments::add(&mut a, $value).map_err(sqlx::Error::Encode)?; )*
            Ok(a)
        })()
    }};
}

impl Batch {
    /// Adds a statement; built SQL (a multi-row insert) is as welcome as a constant.
    pub fn push(&mut self, sql: impl Into<Cow<'static, str>>, args: AnyArguments<'static>) {
        self.parts.push((sql.into(), args));
    }

    pub async fn run(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        if conn.backend_name() != "SQLite" {
            for (sql, args) in self.parts {
                sqlx::query_with(&sql, args).execute(&mut *conn).await?;
            }
            return Ok(());
        }
        let (sql, args) = self.joined();
        sqlx::query_with(&sql, args).execute(&mut *conn).await?;
        Ok(())
    }

    /// Runs the batch and then a query, answering the query's first row.
    pub async fn then_fetch_optional(
        mut self,
        conn: &mut AnyConnection,
        sql: &'static str,
        args: AnyArguments<'static>,
    ) -> sqlx::Result<Option<AnyRow>> {
        if conn.backend_name() != "SQLite" {
            self.run(&mut *conn).await?;
            return sqlx::query_with(sql, args).fetch_optional(&mut *conn).await;
        }
        // The writes before it return no rows, so the rows are the query's. (`fetch_optional`
        // would stop at the first statement's result.)
        self.push(sql, args);
        let (sql, args) = self.joined();
        let rows = sqlx::query_with(&sql, args).fetch_all(&mut *conn).await?;
        Ok(rows.into_iter().next())
    }

    fn joined(self) -> (String, AnyArguments<'static>) {
        let mut sql = String::new();
        let mut all = AnyArguments::default();
        for (part, args) in self.parts {
            shift_placeholders(&part, all.values.0.len(), &mut sql);
            sql.push_str(";\n");
            all.values.0.extend(args.values.0);
        }
        (sql, all)
    }
}

/// Copies `sql`, adding `offset` to every `$N` placeholder.
fn shift_placeholders(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&n),
        }
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn batched_placeholders_are_shifted_past_earlier_arguments() {
        let mut out = String::new();
        shift_placeholders("INSERT INTO t VALUES ($1, $2, $10, $1)", 3, &mut out);
        assert_eq!(out, "INSERT INTO t VALUES ($4, $5, $13, $4)");
    }

    #[tokio::test]
    async fn an_in_memory_or_unknown_database_is_refused_with_a_reason() {
        let memory = Db::connect("sqlite::memory:", 2).await.err().unwrap();
        assert!(memory.to_string().contains("use a file"), "{memory}");
        let other = Db::connect("mysql://localhost/x", 2).await.err().unwrap();
        assert!(
            other.to_string().contains("sqlite: or postgres:"),
            "{other}"
        );
    }

    #[tokio::test]
    async fn a_batch_then_a_query_answers_the_query_rows_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("turnero-batch-{}.db", ulid::Ulid::new()));
        let db = Db::connect(&format!("sqlite://{}", dir.display()), 2)
            .await
            .unwrap();
        let mut conn = db.write.acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (a BIGINT, b TEXT)")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1, 'x')")
            .execute(&mut *conn)
            .await
            .unwrap();
        let mut batch = Batch::default();
        batch.push(
            "UPDATE t SET b = $1 WHERE a = $2",
            crate::args!["y".to_string(), 1i64].unwrap(),
        );
        let row = batch
            .then_fetch_optional(
                &mut conn,
                "SELECT b FROM t WHERE a = $1",
                crate::args![1i64].unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            row.map(|r| sqlx::Row::get::<String, _>(&r, 0)),
            Some("y".to_string())
        );
    }
}
