//! The run-scoped transaction of a workflow with `transaction: run`.
//!
//! The engine's whole part: it creates the slot before the first step, hands it to each step
//! through `StepCx::transaction`, and at the end commits it when the run succeeded or rolls it
//! back when the run failed. Steps that write (model-op) open it on first use, so a run that
//! writes nothing never holds a connection, and run their own statements inside a savepoint so
//! a failed step leaves the transaction usable for the routes that handle the failure.

use crate::store::{self, Store, Tx};

/// How a workflow's model writes commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// Each step's writes commit on their own (each step is atomic).
    #[default]
    Step,
    /// All writes of the run commit together at its end, or roll back if it fails.
    Run,
}

/// The slot: the store to open the transaction on, and the transaction once opened.
pub struct RunTransaction {
    store: Option<Store>,
    open: Option<Tx<'static>>,
}

impl std::fmt::Debug for RunTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTransaction")
            .field("open", &self.open.is_some())
            .finish()
    }
}

/// Why the run's transaction could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no database is connected (model steps need `weft serve` or `weft run` with a store)")]
    NoStore,
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl RunTransaction {
    pub fn new(store: Option<Store>) -> Self {
        RunTransaction { store, open: None }
    }

    /// The run's transaction, begun on first use.
    pub async fn get(&mut self) -> Result<&mut Tx<'static>, Error> {
        if self.open.is_none() {
            let store = self.store.as_ref().ok_or(Error::NoStore)?;
            self.open = Some(store.begin_write().await?);
        }
        self.open.as_mut().ok_or(Error::NoStore)
    }

    /// Commits what the run wrote (nothing to do when it wrote nothing).
    pub async fn commit(self) -> Result<(), store::Error> {
        match self.open {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }

    /// Undoes what the run wrote.
    pub async fn rollback(self) -> Result<(), store::Error> {
        match self.open {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}
