//! 8x8 accounts: a name, a subaccount, a region or base URL, and an API key
//! that lives only in the keychain.
//!
//! Adding and verifying an account never sends an SMS: the check is
//! [`Gateway::probe`](crate::gateway::Gateway::probe), which asks for a message
//! that cannot exist. An account 8x8 refuses is still saved, as inactive with
//! 8x8's reason, so the user can fix the key and verify again.

use chrono::Utc;
use serde::Serialize;

use crate::gateway::{Endpoint, Gateway, Probe};
use crate::secrets::Secret;
use crate::store::NewAccount;
use crate::{Core, Error};

pub use crate::model::{Account, AccountStatus, Region};

/// The public view of an account, as `account list --json` and the UI see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    /// Unique name.
    pub name: String,
    /// 8x8 subaccount ID.
    pub subaccount_id: String,
    /// `apac`, `us`, `eu`, `id`, or null for a custom base URL.
    pub region: Option<Region>,
    /// Where requests go.
    pub base_url: String,
    /// `"active"` or `"inactive"`.
    pub status: &'static str,
    /// Why it is inactive.
    pub status_reason: Option<String>,
    /// 8x8's code for that reason.
    pub status_code: Option<i64>,
    /// When 8x8 last answered a verification.
    pub verified_at: Option<String>,
    /// When it was added.
    pub created_at: String,
    /// Whether this is the built-in sandbox.
    pub sandbox: bool,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        let (status, reason, code) = a.status.to_columns();
        AccountView {
            name: a.name.clone(),
            subaccount_id: a.subaccount_id.clone(),
            region: a.region,
            base_url: a.base_url.clone(),
            status,
            status_reason: reason.map(str::to_owned),
            status_code: code,
            verified_at: a.verified_at.clone(),
            created_at: a.created_at.clone(),
            sandbox: a.sandbox,
        }
    }
}

/// Where an account's requests go: a documented region or a custom URL (the
/// simulator, a proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One of 8x8's regions.
    Region(Region),
    /// A base URL of the user's choosing.
    BaseUrl(String),
}

/// What the user typed to add an account.
#[derive(Debug, Clone)]
pub struct AccountInput {
    /// Unique name.
    pub name: String,
    /// 8x8 subaccount ID.
    pub subaccount_id: String,
    /// Region or base URL.
    pub target: Target,
    /// The API key.
    pub api_key: Secret,
}

/// 8x8's rule for subaccount IDs in paths: `^[A-Za-z0-9\-._&]{3,50}$`.
fn check_subaccount(id: &str) -> Result<(), Error> {
    let ok_chars = id.chars().all(|c| c.is_ascii_alphanumeric() || "-._&".contains(c));
    if (3..=50).contains(&id.len()) && ok_chars {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "subaccount ID {id:?} is not valid: 8x8 subaccount IDs are 3 to 50 characters of letters, digits and - . _ &; \
             copy it from the API keys page of the 8x8 Connect portal (it often ends in _hq)"
        )))
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.trim() != name || name.chars().count() > 64 || name.chars().any(char::is_control)
    {
        return Err(Error::Invalid(format!(
            "account name {name:?} is not valid: use 1 to 64 characters with no leading or trailing spaces"
        )));
    }
    Ok(())
}

fn check_key(key: &Secret) -> Result<(), Error> {
    let key = key.expose();
    if key.is_empty() {
        return Err(Error::Invalid(
            "the API key is empty: paste the key from the 8x8 Connect portal's API keys page".into(),
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        // Never echo the key: say only what is wrong with it.
        return Err(Error::Invalid("the API key contains spaces or line breaks: copy it again without them".into()));
    }
    Ok(())
}

/// Checks a custom base URL. Plain HTTP is only allowed to this machine, since
/// the API key travels in a header.
pub fn check_base_url(url: &str) -> Result<String, Error> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
        Error::Invalid(format!(
            "base URL {url:?} is not a URL ({e}): use e.g. https://sms.8x8.com or http://127.0.0.1:PORT"
        ))
    })?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::Invalid(format!(
            "base URL {url:?} uses plain http to another machine, which would send the API key unencrypted: use https"
        )))
        }
        other => return Err(Error::Invalid(format!("base URL {url:?} has scheme {other:?}: use https"))),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Invalid(format!("base URL {url:?} must not have a query or fragment")));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The outcome of a verification that could not reach 8x8: the account
/// is kept inactive until a verification gets through.
fn unverified(err: &crate::gateway::Error) -> AccountStatus {
    AccountStatus::Inactive { reason: format!("not verified yet: {err}"), code: err.code() }
}

impl Core {
    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, Error> {
        Ok(self.store().accounts()?)
    }

    /// The named account.
    pub fn account(&self, name: &str) -> Result<Account, Error> {
        self.store().account(name)?.ok_or_else(|| Error::NoSuchAccount(name.to_owned()))
    }

    /// A gateway for the named account, with its key from the keychain.
    pub fn gateway(&self, account: &Account) -> Result<Gateway, Error> {
        let api_key = self.secrets.get(&account.secret_ref)?;
        let endpoint =
            Endpoint { base_url: account.base_url.clone(), subaccount_id: account.subaccount_id.clone(), api_key };
        Ok(Gateway::with_timeout(endpoint, self.http_timeout))
    }

    /// Validates, stores the key in the keychain, saves the account and
    /// verifies it with 8x8. Refused credentials still save the account, as
    /// inactive. If the keychain or the store fails, nothing is left behind.
    pub async fn add_account(&self, input: AccountInput) -> Result<Account, Error> {
        self.insert_account(input, false).await
    }

    /// `add_account`, for the sandbox too (`sandbox::create_sandbox`).
    pub(crate) async fn insert_account(&self, input: AccountInput, sandbox: bool) -> Result<Account, Error> {
        check_name(&input.name)?;
        check_subaccount(&input.subaccount_id)?;
        check_key(&input.api_key)?;
        let (region, base_url) = match &input.target {
            Target::Region(r) => (Some(*r), r.base_url().to_owned()),
            Target::BaseUrl(url) => (None, check_base_url(url)?),
        };
        if self.store().account(&input.name)?.is_some() {
            return Err(crate::store::Error::DuplicateAccount(input.name).into());
        }

        let endpoint = Endpoint {
            base_url: base_url.clone(),
            subaccount_id: input.subaccount_id.clone(),
            api_key: input.api_key.clone(),
        };
        let (status, verified) = match Gateway::with_timeout(endpoint, self.http_timeout).probe().await {
            Ok(Probe::Accepted) => (AccountStatus::Active, true),
            Ok(Probe::Refused { reason, code }) => (AccountStatus::Inactive { reason, code: Some(code) }, true),
            Err(e) => (unverified(&e), false),
        };

        let secret_ref = format!("account:{}", uuid::Uuid::new_v4());
        self.secrets.set(&secret_ref, &input.api_key)?;
        let new = NewAccount {
            name: &input.name,
            subaccount_id: &input.subaccount_id,
            region,
            base_url: &base_url,
            secret_ref: &secret_ref,
            status: &status,
            now: Utc::now(),
            verified,
            sandbox,
        };
        match self.store().insert_account(&new) {
            Ok(account) => Ok(account),
            Err(e) => {
                // Do not leave an orphan key in the keychain.
                let _ = self.secrets.delete(&secret_ref);
                Err(e.into())
            }
        }
    }

    /// Asks 8x8 again whether the account's key works and records the answer.
    /// When 8x8 cannot be reached the status is left as it was.
    pub async fn verify_account(&self, name: &str) -> Result<Account, Error> {
        let account = self.account(name)?;
        let status = match self.gateway(&account)?.probe().await? {
            Probe::Accepted => AccountStatus::Active,
            Probe::Refused { reason, code } => AccountStatus::Inactive { reason, code: Some(code) },
        };
        self.store().set_account_status(name, &status, Utc::now())?;
        self.account(name)
    }

    /// Marks the account inactive because 8x8 refused it during other work
    /// (a 401 while sending, say).
    pub fn mark_account_refused(&self, name: &str, err: &crate::gateway::Error) -> Result<(), Error> {
        let status = AccountStatus::Inactive { reason: err.reason(), code: err.code() };
        Ok(self.store().set_account_status(name, &status, Utc::now())?)
    }

    /// Deletes the account and its key.
    pub fn remove_account(&self, name: &str) -> Result<(), Error> {
        let account = self.account(name)?;
        // Keychain first: if it fails, the account is still there to retry.
        self.secrets.delete(&account.secret_ref)?;
        self.store().delete_account(name)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_and_map_to_documented_hosts() {
        // docs/8x8.md (Hosts and paths), one row per region.
        let documented = [
            ("apac", "https://sms.8x8.com"),
            ("us", "https://sms.us.8x8.com"),
            ("eu", "https://sms.8x8.uk"),
            ("id", "https://sms.8x8.id"),
        ];
        for (name, host) in documented {
            assert_eq!(Region::parse(name).map(Region::base_url), Some(host), "{name}");
            assert_eq!(Region::parse(&name.to_uppercase()).map(Region::as_str), Some(name), "{name} in any case");
        }
        let all: Vec<_> = Region::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(all, ["apac", "us", "eu", "id"], "every region is offered, and no other");
        assert_eq!(Region::parse("mars"), None, "unknown regions are refused");
    }

    #[test]
    fn subaccount_ids_follow_8x8s_pattern() {
        assert!(check_subaccount("amazing_hq").is_ok(), "the usual default subaccount");
        assert!(check_subaccount("a&b.c-d").is_ok(), "all allowed punctuation");
        let err = check_subaccount("ab").unwrap_err().to_string();
        assert!(err.contains("3 to 50"), "too short is explained: {err}");
        assert!(check_subaccount("has space").is_err(), "spaces are not allowed");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080",
            "trailing slash trimmed"
        );
        assert!(check_base_url("https://sms.8x8.com").is_ok(), "https anywhere");
        let err = check_base_url("http://sms.example.com").unwrap_err().to_string();
        assert!(err.contains("unencrypted"), "plain http off-machine says why: {err}");
        assert!(check_base_url("not a url").is_err(), "garbage is refused");
    }

    #[test]
    fn key_errors_never_echo_the_key() {
        let err = check_key(&Secret::new("abc def-SECRET")).unwrap_err().to_string();
        assert!(!err.contains("SECRET"), "the message must not contain the key: {err}");
    }
}
