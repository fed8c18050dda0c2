//! Databases for tests: a fresh SQLite file, or a fresh PostgreSQL database per test (from
//! `WEFT_TEST_POSTGRES_URL`). Under `CI` a missing PostgreSQL URL fails the test instead of
//! skipping it.

use sqlx::Connection;

/// One backend to run a test body against.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    /// Kept alive for the test; removes the SQLite file or drops the PostgreSQL database.
    _guard: Guard,
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Postgres {
            admin_url,
            database,
        } = self
        {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop cannot be async: a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    let sql = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("weft.db").display());
    TestDb {
        name: "sqlite",
        url,
        _guard: Guard::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, or `None` (outside CI) when no server is configured.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = match std::env::var("WEFT_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but WEFT_TEST_POSTGRES_URL is not: PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!(
                "WEFT_TEST_POSTGRES_URL is not set: skipping the PostgreSQL half of this test"
            );
            return None;
        }
    };
    let database = format!("weft_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to WEFT_TEST_POSTGRES_URL ({admin_url}): {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .execute(&mut conn)
    .await
    .expect("create test database");
    let url = with_database(&admin_url, &database);
    Some(TestDb {
        name: "postgres",
        url,
        _guard: Guard::Postgres {
            admin_url,
            database,
        },
    })
}

/// Both backends (PostgreSQL when available).
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    dbs.extend(postgres().await);
    dbs
}

/// `postgres://u@h:5432/test?x=y` with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
