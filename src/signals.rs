//! SIGTERM as a stream the binary's two stop paths share: `airlock run`'s graceful stop
//! (`cli::grace`) and the terminal UI's (`tui::terminal`). What AWS Batch / ECS and Kubernetes
//! send before SIGKILL; Ctrl-C is tokio's `ctrl_c`, on every platform.

/// SIGTERM notifications (never fires where SIGTERM cannot be watched).
pub(crate) struct Terminate {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Terminate {
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGTERM.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal
            && signal.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}
