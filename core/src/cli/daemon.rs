//! `sendrow daemon` (the schedule without a window, one JSON line per event)
//! and `sendrow sim` (the 8x8-compatible simulator), both until SIGTERM or
//! Ctrl-C.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::sim::{Fault, SimConfig, Simulator};
use crate::{Core, Error};

/// `sendrow sim …`
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A subaccount and its key, SUBACCOUNT:KEY; repeat for more (default: sandbox_hq:sandbox-key).
    #[arg(long = "account", value_name = "SUBACCOUNT:KEY", value_parser = parse_sim_account)]
    pub accounts: Vec<(String, String)>,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Chance (0 to 1) that a send request meets one of --faults.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Faults drawn from when --fail-rate hits: 429, 500, 503, timeout, reset,
    /// accepted-500, accepted-502, accepted-504 (the last three accept the
    /// messages, then answer with the error).
    #[arg(long, value_delimiter = ',', value_parser = parse_fault, default_value = "500")]
    pub faults: Vec<Fault>,
    /// Send requests allowed per second per subaccount before 429 (default 1800, as 8x8).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// The Retry-After of every 429, in whole seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub retry_after: u64,
    /// A destination whose messages end undelivered; repeat for more.
    #[arg(long, value_name = "NUMBER")]
    pub undeliverable: Vec<String>,
    /// Milliseconds between delivery states (queued → sent → delivered).
    #[arg(long, default_value_t = 1000)]
    pub delivery_step_ms: u64,
}

fn parse_sim_account(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((sub, key)) if !sub.is_empty() && !key.is_empty() => Ok((sub.to_owned(), key.to_owned())),
        _ => Err(format!("{s:?} is not SUBACCOUNT:KEY")),
    }
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    Fault::parse(s).ok_or_else(|| format!("unknown fault {s:?}: use one of {}", Fault::NAMES))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

/// Runs the scheduler until SIGTERM or Ctrl-C, printing one JSON line per
/// event (run started, finished, next run, …) for logs and tests.
pub(super) async fn daemon(core: Core) -> Result<ExitCode, Error> {
    let dir = core.data_dir().display().to_string();
    let (daemon, task) = crate::daemon::start(std::sync::Arc::new(core), shutdown_signal())?;
    let mut events = daemon.events.subscribe();
    tell!("sendrow daemon: running the schedule for {dir}; stop with Ctrl-C or SIGTERM");
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => say!("{}", serde_json::to_string(&event).expect("events serialize")),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let _ = task.await;
    printer.abort();
    tell!("sendrow daemon: stopped");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn sim(args: SimArgs) -> Result<ExitCode, Error> {
    let defaults = SimConfig::default();
    let config = SimConfig {
        accounts: if args.accounts.is_empty() { defaults.accounts } else { args.accounts },
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        faults: args.faults,
        rate_limit: args.rate_limit,
        retry_after_secs: args.retry_after,
        undeliverable: args.undeliverable,
        delivery_step: Duration::from_millis(args.delivery_step_ms),
        test_hooks: true,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, args.port)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on 127.0.0.1:{}: {e}; pick another --port", args.port)))?;
    say!("listening on {}", sim.base_url());
    let _ = std::io::stdout().flush();
    sim.run_until(shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
