//! Ctrl-C and SIGTERM become one cancellation signal that any number of
//! futures can wait on: the run stops, the partial result is written, and
//! child processes are ended by their guards.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

impl Cancel {
    /// Starts listening for SIGINT and SIGTERM (call inside the runtime);
    /// `message`, if any, is printed when one arrives.
    pub fn on_signals(message: Option<&'static str>) -> std::io::Result<Cancel> {
        let (tx, rx) = watch::channel(false);
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if let Some(message) = message {
                eprintln!("\nwirebench: {message}");
            }
            let _ = tx.send(true);
        });
        Ok(Cancel(rx))
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once cancellation was asked for.
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        // An error means the sender is gone; nothing can cancel any more.
        if rx.wait_for(|cancelled| *cancelled).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
