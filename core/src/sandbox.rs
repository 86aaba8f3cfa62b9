//! The sandbox: Sendrow's built-in 8x8 simulator plus a sample account and
//! connection, so a newcomer sees a preview and a sent test SMS within minutes
//! without an 8x8 account. The app starts the simulator (`sim`) on loopback
//! and calls these functions; nothing here sends real SMS.

use chrono::Utc;

use crate::account::{AccountInput, Target};
use crate::connection::ConnectionSpec;
use crate::secrets::Secret;
use crate::sim::{SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use crate::{Core, Error};

/// The sandbox account's name.
pub const SANDBOX_ACCOUNT: &str = "Sandbox";
/// The sample connection's name.
pub const SAMPLE_CONNECTION: &str = "Sample orders";

const SAMPLE_CSV: &str = "Order ID,Name,Phone,Total\n\
1001,Олена,067 123 45 67,450 грн\n\
1002,Ivan,+380 50 111 22 33,1200 грн\n\
1003,Марія,093 765 43 21,89 грн\n";

impl Core {
    /// Creates the sandbox account (pointing at the simulator at `sim_url`),
    /// a sample CSV in the data folder and a connection over it. Safe to call
    /// again: what exists is kept.
    pub async fn create_sandbox(&self, sim_url: &str) -> Result<(), Error> {
        if self.store().account(SANDBOX_ACCOUNT)?.is_none() {
            self.add_account(AccountInput {
                name: SANDBOX_ACCOUNT.into(),
                subaccount_id: SANDBOX_SUBACCOUNT.into(),
                target: Target::BaseUrl(sim_url.into()),
                api_key: Secret::new(SANDBOX_KEY),
            })
            .await?;
        } else {
            self.move_sandbox(sim_url)?;
        }
        if self.store().connection(SAMPLE_CONNECTION)?.is_none() {
            let folder = self.data_dir().join("sandbox");
            std::fs::create_dir_all(&folder).map_err(|source| Error::DataDir { path: folder.clone(), source })?;
            let csv = folder.join("orders.csv");
            std::fs::write(&csv, SAMPLE_CSV).map_err(|source| Error::DataDir { path: csv.clone(), source })?;
            let spec = serde_json::json!({
                "name": SAMPLE_CONNECTION,
                "source": {"type": "csv", "path": csv},
                "row_key": {"column": "Order ID"},
                "start_from": "all_rows",
                "account": SANDBOX_ACCOUNT,
                "phone_field": "Phone",
                "default_country": "UA",
                "sender": "MyShop",
                "message": "{{Name}}, ваше замовлення {{Order ID}} на {{Total}} підтверджено. Дякуємо!",
                "schedule": null,
                "auto_update": false
            });
            let spec: ConnectionSpec = serde_json::from_value(spec).expect("the sample spec is valid");
            self.add_connection(spec, &folder).await?;
        }
        Ok(())
    }

    /// Points the sandbox account at the simulator's address of this start
    /// (it gets a free port each time). Does nothing without a sandbox.
    pub fn move_sandbox(&self, sim_url: &str) -> Result<bool, Error> {
        Ok(self.store().set_account_base_url(SANDBOX_ACCOUNT, sim_url, Utc::now())?)
    }
}
