//! Runs the models layer's SQL on a connection of either backend, and counts the queries (so
//! tests can check that relations load in one query each, never one per record).

use serde_json::Value;

use super::types::ColumnType;
use super::value::{Bind, bind_pg, bind_sqlite, decode_pg, decode_sqlite};
use crate::store::{Backend, Conn};

/// A connection the models layer works on, with a count of the statements it ran.
pub struct Db<'c> {
    conn: Conn<'c>,
    queries: u32,
}

impl<'c> Db<'c> {
    pub fn new(conn: Conn<'c>) -> Self {
        Db { conn, queries: 0 }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Statements run so far.
    pub fn queries(&self) -> u32 {
        self.queries
    }

    /// Runs a query and decodes each row's columns with `types` (in select-list order).
    pub async fn fetch(
        &mut self,
        sql: &str,
        binds: &[Bind],
        types: &[ColumnType],
    ) -> Result<Vec<Vec<Value>>, sqlx::Error> {
        self.queries += 1;
        let text = sqlx::AssertSqlSafe(sql.to_string());
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let q = binds.iter().fold(sqlx::query(text), bind_sqlite);
                let rows = q.fetch_all(&mut **c).await?;
                rows.iter()
                    .map(|r| {
                        (0..types.len())
                            .map(|i| decode_sqlite(r, i, types[i]))
                            .collect()
                    })
                    .collect()
            }
            Conn::Postgres(c) => {
                let q = binds.iter().fold(sqlx::query(text), bind_pg);
                let rows = q.fetch_all(&mut **c).await?;
                rows.iter()
                    .map(|r| {
                        (0..types.len())
                            .map(|i| decode_pg(r, i, types[i]))
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// Runs a statement; the number of rows it affected.
    pub async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<u64, sqlx::Error> {
        self.queries += 1;
        let text = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match &mut self.conn {
            Conn::Sqlite(c) => {
                let q = binds.iter().fold(sqlx::query(text), bind_sqlite);
                q.execute(&mut **c).await?.rows_affected()
            }
            Conn::Postgres(c) => {
                let q = binds.iter().fold(sqlx::query(text), bind_pg);
                q.execute(&mut **c).await?.rows_affected()
            }
        })
    }
}
