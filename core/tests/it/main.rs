//! Core's one integration-test binary: the public API against the real
//! SQLite, the real loopback simulator and an in-memory secret store (the real
//! keychain is exercised end to end from the root package's tests).

mod accounts;
mod cell_formats;
mod connection_spec;
mod delivery;
mod edges;
mod gateway;
mod google;
mod google_rows;
mod hardening;
mod ledger;
mod local_time;
mod optout;
mod run;
mod scheduler;
mod simulator;
mod sources;
mod tidy;
mod which_rows;

use std::time::Duration;

use sendrow_core::gateway::{Endpoint, Gateway};
use sendrow_core::secrets::Secret;
use sendrow_core::sim::{SimConfig, Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};

/// A simulator with the sandbox account and fast delivery states.
pub async fn sim() -> Simulator {
    sim_with(SimConfig { delivery_step: Duration::from_millis(20), ..SimConfig::default() }).await
}

pub async fn sim_with(config: SimConfig) -> Simulator {
    Simulator::start(config, 0).await.expect("the simulator binds a free loopback port")
}

/// A gateway to `sim` as `subaccount` with `key`.
pub fn gateway_as(sim: &Simulator, subaccount: &str, key: &str) -> Gateway {
    let endpoint = Endpoint { base_url: sim.base_url(), subaccount_id: subaccount.into(), api_key: Secret::new(key) };
    Gateway::with_timeout(endpoint, Duration::from_secs(5))
}

/// Adds the account "main" on `sim` with the sandbox credentials to `core`.
pub async fn add_main_account(core: &sendrow_core::Core, sim: &Simulator) {
    let account = sendrow_core::account::AccountInput {
        name: "main".into(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        target: sendrow_core::account::Target::BaseUrl(sim.base_url()),
        api_key: Secret::new(SANDBOX_KEY),
    };
    core.add_account(account).await.expect("the sandbox account is accepted");
}

/// A gateway to `sim` with the sandbox credentials.
pub fn gateway(sim: &Simulator) -> Gateway {
    gateway_as(sim, SANDBOX_SUBACCOUNT, SANDBOX_KEY)
}
