//! A kraftd server for benchmarks, with the edge layers or auditing
//! switchable off so their cost can be measured against the same build.
//! Never use it to serve real traffic.
//!
//! Settings come from the usual environment variables, plus
//! `BENCH_EDGE=off` and `BENCH_AUDIT=off`. The server listens on a free
//! loopback port and prints `listening on ADDR` once ready.

use kraftd::config::Config;
use kraftd::testing::{Audit, Edge, RunningServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let edge = match std::env::var("BENCH_EDGE").as_deref() {
        Ok("off") => Edge::Off,
        _ => Edge::On,
    };
    let audit = match std::env::var("BENCH_AUDIT").as_deref() {
        Ok("off") => Audit::Off,
        _ => Audit::On,
    };
    let config = Config::from_env()?;
    let server = RunningServer::start_with(config, edge, audit).await?;
    println!("listening on {} (edge {edge:?}, audit {audit:?})", server.addr);
    tokio::signal::ctrl_c().await?;
    server.stop().await;
    Ok(())
}
