//! The sandbox: Sendrow's built-in 8x8 simulator plus a sample account and
//! connection, so a newcomer sees a preview and a sent test SMS within minutes
//! without an 8x8 account. The app starts the simulator (`sim`) on loopback
//! and calls these functions; nothing here sends real SMS.

use chrono::Utc;

use crate::account::{Account, AccountInput, Target};
use crate::connection::ConnectionSpec;
use crate::secrets::Secret;
use crate::sim::{SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use crate::{Core, Error};

/// The sandbox account's name, or the start of it when a user's own
/// account already has this one.
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
    /// again: what exists is kept. The account is marked as the sandbox in the
    /// store; an account of the user's that happens to be called "Sandbox" is
    /// left alone and the sandbox takes another name.
    pub async fn create_sandbox(&self, sim_url: &str) -> Result<(), Error> {
        let account = match self.store().sandbox_account()? {
            Some(account) => {
                self.move_sandbox(sim_url)?;
                account
            }
            None => {
                let input = AccountInput {
                    name: self.free_sandbox_name()?,
                    subaccount_id: SANDBOX_SUBACCOUNT.into(),
                    target: Target::BaseUrl(sim_url.into()),
                    api_key: Secret::new(SANDBOX_KEY),
                };
                self.insert_account(input, true).await?
            }
        };
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
                "account": account.name,
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

    /// The sandbox's account, if "Open the sandbox" created one. The app
    /// starts its simulator at launch only then.
    pub fn sandbox_account(&self) -> Result<Option<Account>, Error> {
        Ok(self.store().sandbox_account()?)
    }

    /// Points the sandbox account at the simulator's address of this start
    /// (it gets a free port each time). Does nothing without a sandbox; never
    /// touches any other account, whatever its name.
    pub fn move_sandbox(&self, sim_url: &str) -> Result<bool, Error> {
        Ok(self.store().move_sandbox_account(sim_url, Utc::now())?)
    }

    /// "Sandbox", or "Sandbox 2", "Sandbox 3"… when the user has taken it.
    fn free_sandbox_name(&self) -> Result<String, Error> {
        let mut name = SANDBOX_ACCOUNT.to_owned();
        for n in 2.. {
            if self.store().account(&name)?.is_none() {
                break;
            }
            name = format!("{SANDBOX_ACCOUNT} {n}");
        }
        Ok(name)
    }
}
