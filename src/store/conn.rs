//! Connections and transactions for layers that run their own SQL on either backend (the
//! data-models layer): a borrowed connection ([`Conn`]), a pooled one ([`Pooled`]), and a
//! transaction or savepoint ([`Tx`]).
//!
//! Writers take SQLite's write lock up front (`BEGIN IMMEDIATE`): a deferred transaction that
//! reads first and writes later can fail with `SQLITE_BUSY` when another connection wrote in
//! between, while an immediate one simply waits its turn (the pool's busy timeout).

use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use super::{Error, Store};

/// A borrowed connection on either backend, ready to run queries.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// A connection taken from the pool; returned to it on drop.
pub enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// An open transaction, or a savepoint inside one. Dropped without [`Tx::commit`], it rolls
/// back.
pub enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl<'c> Tx<'c> {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// A savepoint: its writes are undone by [`Tx::rollback`] (or drop) without touching the
    /// rest of the transaction, which stays usable after a failed statement.
    pub async fn savepoint(&mut self) -> Result<Tx<'_>, Error> {
        Ok(match self {
            Tx::Sqlite(t) => Tx::Sqlite(t.begin().await?),
            Tx::Postgres(t) => Tx::Postgres(t.begin().await?),
        })
    }

    pub async fn commit(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), Error> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

impl Store {
    /// A pooled connection (no transaction: each statement commits on its own).
    pub async fn acquire(&self) -> Result<Pooled, Error> {
        Ok(match self {
            Store::Sqlite(p) => Pooled::Sqlite(p.acquire().await?),
            Store::Postgres(p) => Pooled::Postgres(p.acquire().await?),
        })
    }

    /// A transaction that will write (on SQLite it holds the write lock from the start).
    pub async fn begin_write(&self) -> Result<Tx<'static>, Error> {
        Ok(match self {
            Store::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction that also excludes every other holder of `key` until it ends: two
    /// processes starting at once apply schema changes one after the other. On SQLite the write
    /// lock already does that; PostgreSQL takes the transaction-scoped advisory lock `key`.
    pub async fn begin_exclusive(&self, key: i64) -> Result<Tx<'static>, Error> {
        let mut tx = self.begin_write().await?;
        if let Tx::Postgres(t) = &mut tx {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(&mut **t)
                .await?;
        }
        Ok(tx)
    }
}
