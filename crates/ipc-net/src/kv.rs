//! Shared state: a JetStream key-value bucket.
//!
//! A bucket maps keys to values; every write gets a new *revision* number.
//! [`Bucket::update`] writes only if the entry is still at the revision the
//! writer read (compare-and-set): a writer that lost the race learns it,
//! reads again and retries, so no update is lost. [`Bucket::put`] writes
//! whatever is there.
//!
//! ```no_run
//! use ipc_net::{Bucket, Connection};
//!
//! let nc = Connection::connect(&"nats://127.0.0.1:4222".parse()?)?;
//! let bucket = Bucket::open(&nc, &"ipc-lab-demo".parse()?, 1)?;
//! let key = "counter".parse()?;
//! bucket.put(&key, b"0")?;
//! let entry = bucket.get(&key)?.expect("just written");
//! // Succeeds only if nobody wrote since `entry` was read.
//! let written = bucket.update(&key, b"1", entry.revision)?;
//! assert!(written.is_some());
//! assert!(bucket.update(&key, b"2", entry.revision)?.is_none(), "a stale revision");
//! # Ok::<(), ipc_net::Error>(())
//! ```

use std::fmt;

use async_nats::StatusCode;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::kv::{Config, Store, UpdateError, UpdateErrorKind};
use async_nats::jetstream::stream::{DirectGetError, DirectGetErrorKind, StorageType};

use crate::client::Connection;
use crate::error::Result;
use crate::names::{BucketName, Key};

/// A key-value bucket on the server.
pub struct Bucket<'c> {
    connection: &'c Connection,
    store: Store,
    name: BucketName,
}

impl fmt::Debug for Bucket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

/// A value read from a bucket, with its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The revision the value was written at.
    pub revision: u64,
}

impl<'c> Bucket<'c> {
    /// Opens the bucket `name`, creating it (file storage, `replicas`
    /// copies, one value kept per key) when it is missing.
    ///
    /// # Errors
    /// [`Error::Refused`](crate::Error::Refused) when the server has no JetStream or cannot place
    /// the replicas; as [`Connection::flush`].
    pub fn open(connection: &'c Connection, name: &BucketName, replicas: usize) -> Result<Self> {
        let js = connection.jetstream()?;
        let config = Config {
            bucket: name.to_string(),
            history: 1,
            storage: StorageType::File,
            num_replicas: replicas,
            ..Default::default()
        };
        let what = || format!("opening the key-value bucket {name}");
        let opening = || async {
            match js.get_key_value(name.as_str()).await {
                Ok(store) => Ok(store),
                Err(_) => match js.create_key_value(config.clone()).await {
                    Ok(store) => Ok(store),
                    // Created by another process meanwhile?
                    Err(create) => js.get_key_value(name.as_str()).await.map_err(|_| create),
                },
            }
        };
        // As for a stream (`WorkQueue::open`): a cluster still forming, or
        // one too busy to answer in time, is asked again.
        let store = connection
            .retry_unanswered(
                crate::stream::CREATE_PATIENCE,
                crate::stream::no_peers_yet,
                || connection.wait(what, opening(), Some(connection.options.op_timeout * 2)),
            )?
            .map_err(|e| connection.refused(what(), e))?;
        if replicas > 1 {
            crate::stream::wait_for_leader(connection, &js, &store.stream_name)?;
        }
        Ok(Bucket {
            connection,
            store,
            name: name.clone(),
        })
    }

    /// The bucket's name.
    pub fn name(&self) -> &BucketName {
        &self.name
    }

    /// The URL(s) of the server the bucket is reached through.
    pub fn urls(&self) -> &crate::ServerUrls {
        self.connection.urls()
    }

    /// The entry of `key`, `None` if it has none.
    ///
    /// # Errors
    /// As [`Connection::flush`]; [`Error::Refused`](crate::Error::Refused).
    pub fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let what = || format!("reading {key} in {}", self.name);
        // A node that has just heard of the bucket may not answer for it
        // yet: a read can be tried again.
        let entry = self
            .attempt(what, no_responders, || self.store.entry(key.as_str()))?
            .map_err(|e| self.connection.refused(what(), e))?;
        Ok(entry.map(|entry| {
            crate::traced::entry_read(
                self.name.as_str(),
                key.as_str(),
                entry.revision,
                &entry.value,
            );
            Entry {
                value: entry.value.to_vec(),
                revision: entry.revision,
            }
        }))
    }

    /// Writes `value` for `key`, whatever was there: a blind write.
    /// Returns the new revision.
    ///
    /// # Errors
    /// As [`Bucket::get`].
    pub fn put(&self, key: &Key, value: &[u8]) -> Result<u64> {
        let what = || format!("writing {key} in {}", self.name);
        let revision = self
            .attempt(what, no_stream, || {
                self.store.put(key.as_str(), value.to_vec().into())
            })?
            .map_err(|e| self.connection.refused(what(), e))?;
        crate::traced::entry_written(self.name.as_str(), key.as_str(), revision, value, None);
        Ok(revision)
    }

    /// Writes `value` for `key` only if the entry is still at `revision`
    /// (compare-and-set). Returns the new revision, or `None` when another
    /// writer got there first (the caller reads again and retries).
    ///
    /// # Errors
    /// As [`Bucket::get`].
    pub fn update(&self, key: &Key, value: &[u8], revision: u64) -> Result<Option<u64>> {
        let what = || format!("updating {key} in {}", self.name);
        let outcome = self.attempt(what, no_stream, || {
            self.store
                .update(key.as_str(), value.to_vec().into(), revision)
        })?;
        match outcome {
            Ok(written) => {
                let (bucket, name) = (self.name.as_str(), key.as_str());
                crate::traced::entry_written(bucket, name, written, value, Some(revision));
                Ok(Some(written))
            }
            Err(e) if is_stale_revision(&e) => {
                crate::traced::entry_refused(self.name.as_str(), key.as_str(), revision);
                Ok(None)
            }
            Err(e) => Err(self.connection.refused(what(), e)),
        }
    }

    /// Runs the store operation `operation` starts, each try within the
    /// operation timeout, and tries again while it fails in a way
    /// `transient` recognises ([`Connection::retry_while`]); `what` names
    /// it in messages. What the store answered is the caller's to judge.
    fn attempt<F, T, E>(
        &self,
        what: impl Fn() -> String,
        transient: fn(&(dyn std::error::Error + 'static)) -> bool,
        operation: impl Fn() -> F,
    ) -> Result<std::result::Result<T, E>>
    where
        F: std::future::Future<Output = std::result::Result<T, E>>,
        E: std::error::Error + 'static,
    {
        let connection = self.connection;
        connection.retry_while(transient, || {
            connection.wait(&what, operation(), Some(connection.options.op_timeout))
        })
    }
}

/// True when `error` (or one of its causes) says that no server answered
/// a read of the bucket (status 503).
fn no_responders(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(get) = e.downcast_ref::<DirectGetError>()
            && let DirectGetErrorKind::ErrorResponse(status, _) = get.kind()
            && status == StatusCode::NO_RESPONDERS
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// True when `error` (or one of its causes) says that no stream takes the
/// subject written to.
fn no_stream(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<PublishError>()
            .is_some_and(|publish| publish.kind() == PublishErrorKind::StreamNotFound)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// True when an update was refused because the entry is no longer at the
/// expected revision. A clustered stream says so with another error code
/// (10164) than a single server (10071), and async-nats 0.51 maps only the
/// second to `WrongLastRevision`: look at the server's code itself.
fn is_stale_revision(error: &UpdateError) -> bool {
    if error.kind() == UpdateErrorKind::WrongLastRevision {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(js) = cause.downcast_ref::<async_nats::jetstream::Error>() {
            return [
                ErrorCode::STREAM_WRONG_LAST_SEQUENCE,
                ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT,
            ]
            .contains(&js.error_code());
        }
        source = cause.source();
    }
    false
}
