//! A server stream that follows a table read by sequence (a feed): it sends
//! the backlog after a cursor in reads of [`BATCH`], then waits for more —
//! woken at once by an append on this replica, else every `poll` (appends
//! by other replicas) — until the client goes away, or after the backlog
//! when the client asked for the backlog only. Feedback's and the city's
//! `WatchEvents` are this loop over their own tables.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::Notify;
use tonic::Status;

/// Rows read at a time.
pub const BATCH: i64 = 100;

/// What a follower answers: rows, or the status that ended the stream.
pub type Follow<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// How to wait for new rows.
#[derive(Clone)]
pub struct Waiting {
    /// Notified by this replica's appends.
    pub appended: Arc<Notify>,
    /// How often to look for other replicas' appends.
    pub poll: Duration,
    /// Stop once the backlog is sent.
    pub backlog_only: bool,
}

/// Streams `read(after, BATCH)`'s rows, each a (sequence, message), from
/// `after` on; a read that fails ends the stream with its status.
pub fn follow<T, F, Fut>(waiting: Waiting, mut after: i64, mut read: F) -> Follow<T>
where
    T: Send + 'static,
    F: FnMut(i64, i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<(i64, T)>, Status>> + Send,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            // Register for wake-ups before reading, so an append in between is not missed.
            let appended = waiting.appended.clone();
            let woken = appended.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let rows = match read(after, BATCH).await {
                Ok(rows) => rows,
                Err(status) => {
                    let _ = tx.send(Err(status)).await;
                    return;
                }
            };
            let full = rows.len() == usize::try_from(BATCH).unwrap_or(usize::MAX);
            for (sequence, message) in rows {
                after = sequence;
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            if waiting.backlog_only {
                return;
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(waiting.poll) => {}
                () = tx.closed() => return,
            }
        }
    });
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
