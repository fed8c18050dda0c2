//! Declared data models end to end, on SQLite and on PostgreSQL (every test body runs against
//! each of `db::backends()`): the `model-op` step, relations, transactions, schema migrations
//! between starts, model versions and the admin API, triggers with model schemas, and the
//! candidate-screening example over HTTP. One test binary for all of it (they share helpers,
//! and each binary is large).

#[path = "../common/mod.rs"]
mod common;

mod docs;
mod example;
mod fixtures;
mod http;
mod lists;
mod migrations;
mod op;
mod queries;
mod support;
mod transactions;
