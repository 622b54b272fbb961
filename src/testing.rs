//! Starting a real server on a loopback port, for integration tests and
//! benchmarks. Exactly the code path `kraftd serve` takes, on port 0.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::audit::AuditLog;
use crate::app::{build_state, router, router_without_edge};
use crate::config::Config;
use crate::maintenance::spawn_pruner;
use crate::server::{serve, ServeOptions};
use crate::state::AppState;

/// A server running in this process until [`RunningServer::stop`].
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pruner: JoinHandle<()>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.pruner.abort();
    }
}

/// Whether the edge layers wrap the routes; only benchmarks turn them off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    On,
    Off,
}

/// Whether audit entries are written; only benchmarks turn it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audit {
    On,
    Off,
}

impl RunningServer {
    /// Builds the application from `config` and serves it on `127.0.0.1:0`.
    pub async fn start(config: Config, edge: Edge) -> anyhow::Result<Self> {
        Self::start_with(config, edge, Audit::On).await
    }

    /// Like [`RunningServer::start`], with auditing optionally off.
    pub async fn start_with(config: Config, edge: Edge, audit: Audit) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let options = ServeOptions {
            header_read_timeout: config.header_read_timeout,
            shutdown_grace: config.shutdown_grace,
        };
        let mut state = build_state(config).await?;
        if audit == Audit::Off {
            state.audit.shutdown().await;
            state.audit = AuditLog::disabled();
        }
        let app = match edge {
            Edge::On => router(state.clone()),
            Edge::Off => router_without_edge(state.clone()),
        };
        let pruner = spawn_pruner(state.store.clone(), state.config.prune_interval);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, options, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
            pruner,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Tells the server to stop accepting connections, without waiting;
    /// in-flight requests go on to completion.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops accepting, waits for in-flight requests and flushes the audit log.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.store.close().await;
        self.state.audit.shutdown().await;
    }
}
