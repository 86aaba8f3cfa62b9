//! The Google Sheets reader against the loopback fake Google: every sign-in
//! mode end to end, tab renames and deletions, Google's quirks (ragged rows,
//! missing `values`) and every failure the user must be told about.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sendrow_core::secrets::{MemorySecrets, Secret, SecretStore};
use sendrow_core::source::google::fake::{service_account_key, FakeGoogle, Fault, FaultTarget};
use sendrow_core::source::google::{Error, GoogleAuth, OAuthClient, OAuthFlow, Reader, RetryPolicy, SheetRef, Tab};
use sendrow_core::source::Table;

const ID: &str = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd";
const CLIENT_ID: &str = "123-fake.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-fake-client-secret";
const SA_EMAIL: &str = "sendrow@proj.iam.gserviceaccount.com";
const API_KEY: &str = "AIzaSyFakeKeyThatMustNeverBeShown";

fn sheet(gid: u32) -> SheetRef {
    SheetRef { spreadsheet_id: ID.into(), gid }
}

/// Sleeps recorded instead of waited, so back-off tests take no time.
fn recording_retry() -> (RetryPolicy, Arc<Mutex<Vec<Duration>>>) {
    let slept = Arc::new(Mutex::new(Vec::new()));
    let log = slept.clone();
    let retry = RetryPolicy {
        sleep: Arc::new(move |d| {
            log.lock().unwrap().push(d);
            Box::pin(async {})
        }),
        ..RetryPolicy::default()
    };
    (retry, slept)
}

/// A fake with tab "Leads" (gid 0) of three columns and a second tab.
async fn fake() -> FakeGoogle {
    let google = FakeGoogle::start().await.expect("the fake binds a free loopback port");
    google.set_tab(
        ID,
        0,
        "Leads",
        &[&["Name", "Phone", "Order ID"], &["Ann", "+380671234567", "A-1"], &["Bob, Jr.", "+447700900123", "A-2"]],
    );
    google.set_tab(ID, 77, "Archive", &[&["Name"]]);
    google.add_oauth_client(CLIENT_ID, CLIENT_SECRET);
    google
}

fn oauth_client() -> OAuthClient {
    OAuthClient { client_id: CLIENT_ID.into(), client_secret: Secret::new(CLIENT_SECRET) }
}

fn reader(google: &FakeGoogle, auth: GoogleAuth, secrets: &Arc<MemorySecrets>) -> Reader {
    let (retry, _) = recording_retry();
    Reader::new(auth, secrets.clone(), Some(oauth_client())).with_endpoints(google.endpoints()).with_retry(retry)
}

fn oauth(account: &str) -> GoogleAuth {
    GoogleAuth::OAuth { account: account.into() }
}

fn cells(table: &Table) -> Vec<(usize, Vec<&str>)> {
    table.rows.iter().map(|r| (r.line, r.cells.iter().map(String::as_str).collect())).collect()
}

/// A browser that does not follow redirects, so the test can tamper with them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Asks the fake's consent screen for `authorize_url` and returns where it
/// redirects the browser (the app's loopback address with code and state).
async fn consent(authorize_url: &str) -> reqwest::Url {
    let answer = browser().get(authorize_url).send().await.expect("the fake's consent screen answers");
    assert_eq!(answer.status(), 302, "consent redirects back to the app: {:?}", answer.text().await);
    let location = answer.headers()["location"].to_str().unwrap();
    reqwest::Url::parse(location).expect("the redirect is a URL")
}

fn with_param(url: &reqwest::Url, name: &str, value: &str) -> reqwest::Url {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut out = url.clone();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), if k == name { value } else { v.as_str() })));
    out
}

/// Signs in as `account` the way a user does: the browser follows every
/// redirect, ending at the app's loopback page.
async fn connect(google: &FakeGoogle, secrets: &MemorySecrets, account: &str) {
    let (url, pending) = OAuthFlow::start(oauth_client(), google.endpoints()).await.unwrap();
    // Browsers open speculative connections that never send a request.
    let _idle =
        tokio::net::TcpStream::connect(pending.redirect_uri().trim_start_matches("http://").trim_end_matches('/'))
            .await
            .expect("the loopback listener accepts connections");
    let following = reqwest::Client::new();
    let (finished, page) = tokio::join!(pending.finish(secrets, account), following.get(&url).send());
    finished.expect("the sign-in completes");
    let page = page.expect("the browser reaches the loopback page").text().await.unwrap();
    assert!(page.contains("You can close this tab"), "the browser tab tells the user it worked: {page}");
}

#[tokio::test]
async fn oauth_sign_in_stores_the_refresh_token_and_later_reads_use_it() {
    let google = fake().await;
    google.share_with(ID, "me@example.com");
    let secrets = Arc::new(MemorySecrets::new());
    connect(&google, &secrets, "me@example.com").await;
    assert_eq!(google.count("token:authorization_code"), 1, "the code was exchanged once");
    let stored = secrets.get_for_test(&GoogleAuth::oauth_entry("me@example.com"));
    assert!(stored.is_some_and(|t| t.starts_with("1//")), "the refresh token is in the keychain, not elsewhere");
    assert_eq!(secrets.len(), 1, "only the refresh token is kept (access tokens live in memory)");

    // A new reader, as after an app restart: it only has the keychain.
    let reader = reader(&google, oauth("me@example.com"), &secrets);
    let table = reader.read(&sheet(0)).await.expect("the connected account reads its sheet");
    assert_eq!(table.headers, ["Name", "Phone", "Order ID"], "the header row names the fields");
    assert_eq!(
        cells(&table),
        [(2, vec!["Ann", "+380671234567", "A-1"]), (3, vec!["Bob, Jr.", "+447700900123", "A-2"])],
        "data rows with their sheet row numbers"
    );
    assert_eq!(google.count("token:refresh_token"), 1, "the stored refresh token bought an access token");
    reader.read(&sheet(0)).await.unwrap();
    assert_eq!(google.count("token:refresh_token"), 1, "a live access token is reused, not refreshed per read");
    assert_eq!(
        reader.tabs(ID).await.unwrap(),
        [Tab { gid: 0, title: "Leads".into() }, Tab { gid: 77, title: "Archive".into() }],
        "tabs are listed in order for the user to pick"
    );
}

#[tokio::test]
async fn oauth_redirect_with_a_foreign_state_is_refused() {
    let google = fake().await;
    let secrets = MemorySecrets::new();
    let (url, pending) = OAuthFlow::start(oauth_client(), google.endpoints()).await.unwrap();
    let redirect = consent(&url).await;
    assert!(redirect.as_str().starts_with(pending.redirect_uri()), "Google sends the browser to our loopback");
    let forged = with_param(&redirect, "state", "attacker-state");
    let (finished, page) = tokio::join!(pending.finish(&secrets, "me"), browser().get(forged).send());
    assert!(matches!(finished, Err(Error::StateMismatch)), "a redirect we did not start is refused: {finished:?}");
    assert_eq!(page.unwrap().status(), 400, "the browser tab shows the failure");
    assert_eq!(google.count("token:authorization_code"), 0, "a foreign code is never exchanged");
    assert!(secrets.is_empty(), "nothing is stored from a refused sign-in");
}

#[tokio::test]
async fn oauth_code_issued_for_another_challenge_is_refused_by_pkce() {
    let google = fake().await;
    let secrets = MemorySecrets::new();
    let (attacker_url, _attacker) = OAuthFlow::start(oauth_client(), google.endpoints()).await.unwrap();
    let (victim_url, victim) = OAuthFlow::start(oauth_client(), google.endpoints()).await.unwrap();
    // A code bound to the attacker's PKCE challenge is injected into the
    // victim's redirect with the victim's own state: only PKCE can tell.
    let attacker = reqwest::Url::parse(&attacker_url).unwrap();
    let code_for_attacker = consent(with_param(&attacker, "redirect_uri", victim.redirect_uri()).as_str()).await;
    let victim_state = param(&reqwest::Url::parse(&victim_url).unwrap(), "state");
    let injected = with_param(&code_for_attacker, "state", &victim_state);
    let (finished, _) = tokio::join!(victim.finish(&secrets, "me"), browser().get(injected).send());
    let err = finished.expect_err("a code bound to another verifier must not sign in");
    assert!(matches!(err, Error::SignInRefused { .. }), "the token endpoint refuses it: {err:?}");
    assert!(err.to_string().contains("Invalid code verifier"), "Google's reason is kept: {err}");
    assert_eq!(google.count("token:authorization_code"), 1, "the exchange was tried, so PKCE is what refused it");
    assert!(secrets.is_empty(), "nothing is stored from a refused sign-in");
}

fn param(url: &reqwest::Url, name: &str) -> String {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[tokio::test]
async fn revoked_refresh_token_asks_to_reconnect_google() {
    let google = fake().await;
    google.share_with(ID, "me@example.com");
    let secrets = Arc::new(MemorySecrets::new());
    connect(&google, &secrets, "me").await;
    google.revoke_refresh_tokens();
    let err = reader(&google, oauth("me"), &secrets).read(&sheet(0)).await.expect_err("revoked access cannot read");
    assert!(matches!(err, Error::ReconnectGoogle { .. }), "invalid_grant is its own situation: {err:?}");
    assert!(err.needs_reconnect() && !err.is_transient(), "the user must act; retrying will not help");
    assert!(err.to_string().starts_with("reconnect Google"), "the text says what to do: {err}");
    assert!(err.to_string().contains("Token has been expired or revoked"), "Google's reason is kept: {err}");

    let never = reader(&google, oauth("someone-else"), &secrets).read(&sheet(0)).await.unwrap_err();
    assert!(matches!(never, Error::NotConnected { .. }), "no sign-in yet is told apart: {never:?}");
    assert!(never.needs_reconnect(), "it also sends the user to sign in");
}

#[tokio::test]
async fn expired_access_tokens_are_refreshed_before_and_during_a_poll() {
    let google = fake().await;
    google.share_with(ID, "me@example.com");
    let secrets = Arc::new(MemorySecrets::new());
    connect(&google, &secrets, "me").await;
    let reader = reader(&google, oauth("me"), &secrets);
    reader.read(&sheet(0)).await.unwrap();
    assert_eq!(google.count("token:refresh_token"), 1, "first read refreshes once");

    // The token dies between spreadsheets.get and values.get.
    google.queue_faults([Fault::ExpireToken]);
    let table = reader.read(&sheet(0)).await.expect("a 401 mid-poll is recovered");
    assert_eq!(table.rows.len(), 2, "the recovered read returns the rows");
    assert_eq!(google.count("token:refresh_token"), 2, "the 401 bought exactly one new token");
    assert_eq!(google.count("values.get"), 3, "values.get: first read, the 401, the retry");

    // Tokens that are (nearly) expired are renewed before use.
    google.set_token_lifetime(30);
    reader.read(&sheet(0)).await.unwrap();
    assert_eq!(google.count("token:refresh_token"), 2, "the hour-long token is still good");
    google.queue_faults([Fault::ExpireToken]);
    reader.read(&sheet(0)).await.unwrap();
    assert_eq!(google.count("token:refresh_token"), 3, "after the 401 a 30-second token is granted");
    reader.read(&sheet(0)).await.unwrap();
    assert_eq!(
        google.count("token:refresh_token"),
        5,
        "a token within a minute of expiry is renewed before each of the read's two requests, never sent"
    );
}

fn service_account(google: &FakeGoogle, secrets: &MemorySecrets) {
    let (json, public_key) = service_account_key(SA_EMAIL);
    google.add_service_account(SA_EMAIL, &public_key);
    secrets.set("google-sa:test", &Secret::new(json)).unwrap();
}

fn sa_auth() -> GoogleAuth {
    GoogleAuth::ServiceAccount { key_entry: "google-sa:test".into() }
}

#[tokio::test]
async fn service_account_reads_a_sheet_shared_with_it() {
    let google = fake().await;
    let secrets = Arc::new(MemorySecrets::new());
    service_account(&google, &secrets);
    let reader = reader(&google, sa_auth(), &secrets);

    let err = reader.read(&sheet(0)).await.expect_err("the sheet is not shared with the service account yet");
    assert!(matches!(err, Error::PermissionDenied { .. }), "403 is a permission problem: {err:?}");
    assert!(
        err.to_string().contains(&format!("share the sheet with the service account's email {SA_EMAIL}")),
        "the user is told whom to share with: {err}"
    );
    assert!(err.to_string().contains("The caller does not have permission"), "Google's words are kept: {err}");

    google.share_with(ID, SA_EMAIL);
    let table = reader.read(&sheet(0)).await.expect("once shared, the service account reads");
    assert_eq!(table.rows.len(), 2, "both data rows");
    assert_eq!(google.count("token:jwt-bearer"), 1, "one JWT bought the token both reads used");
}

#[tokio::test]
async fn service_account_jwt_signed_with_another_key_is_refused() {
    let google = fake().await;
    google.share_with(ID, SA_EMAIL);
    let secrets = Arc::new(MemorySecrets::new());
    service_account(&google, &secrets);
    let (_, other_public_key) = service_account_key(SA_EMAIL);
    google.add_service_account(SA_EMAIL, &other_public_key);
    let err = reader(&google, sa_auth(), &secrets).read(&sheet(0)).await.expect_err("a stale key cannot sign in");
    assert!(matches!(err, Error::ServiceAccountRefused { .. }), "the token endpoint refused the JWT: {err:?}");
    assert!(err.to_string().contains("Invalid JWT Signature"), "Google's reason is kept: {err}");

    let missing = reader(&google, GoogleAuth::ServiceAccount { key_entry: "google-sa:nope".into() }, &secrets);
    let err = missing.read(&sheet(0)).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingSecret { entry, .. } if entry == "google-sa:nope"),
        "a missing keychain entry is named: {err:?}"
    );
}

fn api_key_auth(secrets: &MemorySecrets, key: &str) -> GoogleAuth {
    secrets.set("google-api-key:test", &Secret::new(key)).unwrap();
    GoogleAuth::ApiKey { key_entry: "google-api-key:test".into() }
}

#[tokio::test]
async fn api_key_reads_link_shared_sheets_and_says_why_it_cannot() {
    let google = fake().await;
    google.add_api_key(API_KEY, true);
    google.add_api_key("AIzaSyRestrictedToOtherApis", false);
    let secrets = Arc::new(MemorySecrets::new());
    let auth = api_key_auth(&secrets, API_KEY);
    let reader = reader(&google, auth.clone(), &secrets);

    let private = reader.read(&sheet(0)).await.expect_err("a key cannot read a private sheet");
    assert!(private.to_string().contains("anyone with the link"), "the user learns how to share it: {private}");

    google.share_with_link(ID);
    let table = reader.read(&sheet(0)).await.expect("a key reads a link-shared sheet");
    assert_eq!(table.rows.len(), 2, "both data rows");

    let restricted = self::reader(&google, api_key_auth(&secrets, "AIzaSyRestrictedToOtherApis"), &secrets);
    let err = restricted.read(&sheet(0)).await.unwrap_err();
    assert!(
        err.to_string().contains("the API key is not allowed for Sheets API"),
        "a key restricted to other APIs is named as such: {err}"
    );

    let wrong = self::reader(&google, api_key_auth(&secrets, "AIzaSyWrongKey"), &secrets);
    let err = wrong.read(&sheet(0)).await.unwrap_err();
    assert!(matches!(err, Error::ApiKeyRejected { .. }), "an unknown key is its own error: {err:?}");
    for shown in [err.to_string(), format!("{err:?}"), private.to_string(), format!("{private:?}")] {
        assert!(!shown.contains("AIzaSy"), "API keys never appear in error text or Debug: {shown}");
    }
    assert!(google.count("token:refresh_token") + google.count("token:jwt-bearer") == 0, "no token for key mode");
}

#[tokio::test]
async fn public_csv_follows_the_export_redirect_and_spots_private_sheets() {
    let google = fake().await;
    let secrets = Arc::new(MemorySecrets::new());
    let reader = reader(&google, GoogleAuth::PublicCsv, &secrets);

    let err = reader.read(&sheet(0)).await.expect_err("a private sheet's export is a sign-in page");
    assert!(matches!(err, Error::NotShared), "HTML instead of CSV means not shared: {err:?}");
    assert!(
        err.to_string().contains("this sheet is not shared with 'anyone with the link'"),
        "the user learns what to change: {err}"
    );

    google.share_with_link(ID);
    google.set_tab(ID, 0, "Leads", &[&["Name", "Note", "Phone"], &["Ann", "says \"hi\", twice", "+1"], &[], &["Bob"]]);
    let table = reader.read(&sheet(0)).await.expect("a link-shared sheet exports as CSV");
    assert_eq!(google.count("download"), 1, "the redirect to the download host was followed");
    assert_eq!(table.headers, ["Name", "Note", "Phone"], "the header row names the fields");
    assert_eq!(
        cells(&table),
        [(2, vec!["Ann", "says \"hi\", twice", "+1"]), (4, vec!["Bob", "", ""])],
        "quotes and commas survive; the blank row is skipped but numbering is kept"
    );
    assert!(matches!(reader.tabs(ID).await, Err(Error::TabsNeedApi)), "CSV mode cannot list tabs");
    let gone = reader.read(&sheet(999)).await.unwrap_err();
    assert!(matches!(gone, Error::TabNotFound { gid: 999 }), "an unknown gid in a sheet that exists: {gone:?}");
    let text = gone.to_string();
    assert!(text.contains("no tab with gid 999") && text.contains("#gid="), "the tab is what to fix: {text}");
    assert!(!text.contains("spreadsheet ID"), "the spreadsheet ID is right, so it is not blamed: {text}");

    let missing = SheetRef { spreadsheet_id: "1ThisSpreadsheetDoesNotExist000".into(), gid: 0 };
    let err = reader.read(&missing).await.unwrap_err();
    assert!(matches!(err, Error::SpreadsheetNotFound { .. }), "an unknown spreadsheet is still its own error: {err:?}");
    assert!(err.to_string().contains("check the spreadsheet ID"), "the ID is what to fix: {err}");
}

#[tokio::test]
async fn renamed_tab_keeps_working_and_deleted_tab_lists_the_others() {
    let google = fake().await;
    google.share_with_link(ID);
    google.add_api_key(API_KEY, true);
    let secrets = Arc::new(MemorySecrets::new());
    let reader = reader(&google, api_key_auth(&secrets, API_KEY), &secrets);
    let before = reader.read(&sheet(0)).await.unwrap();

    google.rename_tab(ID, 0, "Leads 'A1' (2026)");
    let after = reader.read(&sheet(0)).await.expect("the gid still finds the renamed tab");
    assert_eq!(after, before, "same rows under the new title (even one with quotes and brackets)");

    let gets = google.count("spreadsheets.get");
    google.queue_faults([Fault::RenamedMeanwhile]);
    let raced = reader.read(&sheet(0)).await.expect("a rename between the two calls is recovered");
    assert_eq!(raced, before, "the same rows after resolving the title again");
    assert_eq!(google.count("spreadsheets.get"), gets + 2, "the title was resolved a second time");

    google.delete_tab(ID, 0);
    let err = reader.read(&sheet(0)).await.expect_err("a deleted tab cannot be read");
    assert!(
        matches!(&err, Error::NoSuchTab { gid: 0, tabs } if tabs == &[Tab { gid: 77, title: "Archive".into() }]),
        "the remaining tabs come with the error: {err:?}"
    );
    assert!(err.to_string().contains("\"Archive\" (gid 77)"), "and the text lists them: {err}");
}

#[tokio::test]
async fn rate_limits_and_server_errors_back_off_then_succeed() {
    let google = fake().await;
    google.share_with_link(ID);
    google.add_api_key(API_KEY, true);
    let secrets = Arc::new(MemorySecrets::new());
    let (retry, slept) = recording_retry();
    let reader = Reader::new(api_key_auth(&secrets, API_KEY), secrets.clone(), None)
        .with_endpoints(google.endpoints())
        .with_retry(retry.clone());

    google.queue_faults([Fault::RateLimited { retry_after_secs: 7 }, Fault::ServerError]);
    let table = reader.read(&sheet(0)).await.expect("a 429 and a 500 are retried");
    assert_eq!(table.rows.len(), 2, "the retried read returns the rows");
    let waits = slept.lock().unwrap().clone();
    assert_eq!(waits.len(), 2, "one wait per failure: {waits:?}");
    assert_eq!(waits[0], Duration::from_secs(7), "Retry-After is honoured");
    assert!(
        waits[1] >= Duration::from_secs(2) && waits[1] <= Duration::from_millis(2500),
        "the second failure waits twice the first delay plus at most 25 % jitter: {waits:?}"
    );

    slept.lock().unwrap().clear();
    google.queue_faults([Fault::ServerError; 4]);
    let err = reader.read(&sheet(0)).await.expect_err("retries are bounded");
    assert!(matches!(err, Error::Server { status: 500, .. }), "the last failure is reported: {err:?}");
    assert!(err.is_transient(), "the scheduler may try again later");
    assert!(err.to_string().contains("Internal error encountered"), "Google's message is kept: {err}");
    assert_eq!(slept.lock().unwrap().len(), 3, "four tries in all, three waits between them");

    slept.lock().unwrap().clear();
    google.queue_faults([Fault::RateLimited { retry_after_secs: 600 }]);
    let err = reader.read(&sheet(0)).await.expect_err("a ten-minute wait is not done inside a read");
    assert!(
        matches!(err, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(600)),
        "the wait Google asked for is passed on to the scheduler: {err:?}"
    );
    assert!(slept.lock().unwrap().is_empty(), "nothing was slept on: the scheduler owns long waits");
}

#[tokio::test]
async fn ragged_rows_are_padded_and_an_empty_tab_is_empty() {
    let google = fake().await;
    google.share_with_link(ID);
    google.add_api_key(API_KEY, true);
    google.set_tab(
        ID,
        0,
        "Leads",
        &[&["id", "name", "phone", ""], &["1", "Ann", "", ""], &[], &["", "", "+1"], &["", ""]],
    );
    google.set_tab(ID, 5, "Empty", &[&["", ""], &[]]);
    google.set_tab(ID, 6, "Header only", &[&["id", "phone"]]);
    let secrets = Arc::new(MemorySecrets::new());
    let reader = reader(&google, api_key_auth(&secrets, API_KEY), &secrets);

    let table = reader.read(&sheet(0)).await.unwrap();
    assert_eq!(table.headers, ["id", "name", "phone"], "Google drops the trailing empty header cell");
    assert_eq!(
        cells(&table),
        [(2, vec!["1", "Ann", ""]), (4, vec!["", "", "+1"])],
        "short rows padded; blank rows skipped; sheet row numbers kept"
    );
    assert_eq!(reader.read(&sheet(5)).await.unwrap(), Table::default(), "no `values` at all is an empty table");
    let header_only = reader.read(&sheet(6)).await.unwrap();
    assert_eq!((header_only.headers.len(), header_only.rows.len()), (2, 0), "a header with no data has no rows");
}

#[tokio::test]
async fn wrong_spreadsheet_id_and_missing_permission_are_worded_for_the_user() {
    let google = fake().await;
    let secrets = Arc::new(MemorySecrets::new());
    connect(&google, &secrets, "me").await;
    let reader = reader(&google, oauth("me"), &secrets);

    let missing = SheetRef { spreadsheet_id: "1ThisSpreadsheetDoesNotExist000".into(), gid: 0 };
    let err = reader.read(&missing).await.expect_err("no such spreadsheet");
    assert!(matches!(err, Error::SpreadsheetNotFound { .. }), "404 is its own error: {err:?}");
    assert!(err.to_string().contains("check the spreadsheet ID"), "the user is told what to check: {err}");
    assert!(err.to_string().contains("Requested entity was not found"), "Google's words are kept: {err}");

    let err = reader.read(&sheet(0)).await.expect_err("the sheet is not shared with the signed-in account");
    assert!(matches!(err, Error::PermissionDenied { .. }), "403 is a permission problem: {err:?}");
    assert!(err.to_string().contains("ask the owner to share it with that account"), "the fix is named: {err}");
    assert!(!format!("{err:?}").contains("ya29."), "access tokens never appear in errors");
}

#[tokio::test]
async fn batch_get_returns_ranges_in_the_order_asked() {
    let google = fake().await;
    google.share_with_link(ID);
    google.add_api_key(API_KEY, true);
    let url = format!(
        "{}/v4/spreadsheets/{ID}/values:batchGet?ranges=%27Archive%27&ranges=%27Leads%27&valueRenderOption=FORMATTED_VALUE&key={API_KEY}",
        google.base_url()
    );
    let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let ranges = body["valueRanges"].as_array().expect("valueRanges is a list");
    assert_eq!(ranges.len(), 2, "one ValueRange per requested range: {body}");
    assert_eq!(ranges[0]["values"][0][0], "Name", "Archive first, as asked");
    assert_eq!(ranges[1]["values"][1][0], "Ann", "then Leads");
}

#[tokio::test]
async fn token_endpoint_faults_back_off_then_succeed_or_say_so() {
    let google = fake().await;
    google.share_with(ID, SA_EMAIL);
    let secrets = Arc::new(MemorySecrets::new());
    service_account(&google, &secrets);
    let (retry, slept) = recording_retry();
    let reader =
        || Reader::new(sa_auth(), secrets.clone(), None).with_endpoints(google.endpoints()).with_retry(retry.clone());

    google.queue_faults_on(FaultTarget::Token, [Fault::RateLimited { retry_after_secs: 3 }, Fault::ServerError]);
    let table = reader().read(&sheet(0)).await.expect("a 429 and a 500 from the token endpoint are retried");
    assert_eq!(table.rows.len(), 2, "the read goes on once a token is granted");
    assert_eq!(google.count("token:jwt-bearer"), 3, "two refusals, then the token");
    let waits = slept.lock().unwrap().clone();
    assert_eq!(waits.len(), 2, "one wait per failure: {waits:?}");
    assert!(waits[0] >= Duration::from_secs(3), "Retry-After is waited at least: {waits:?}");
    assert!(waits[1] >= Duration::from_secs(2), "then twice the first delay: {waits:?}");

    slept.lock().unwrap().clear();
    google.queue_faults_on(FaultTarget::Token, [Fault::ServerError; 4]);
    let err = reader().read(&sheet(0)).await.expect_err("retries of the token request are bounded");
    assert!(matches!(err, Error::Server { status: 500, .. }), "the last failure is reported: {err:?}");
    assert!(err.is_transient(), "the scheduler may try again later");
    let text = err.to_string();
    assert!(text.contains("Google had a server error") && text.contains("Backend Error"), "in words: {text}");
    assert!(!text.contains('{'), "Google's reason, not its JSON: {text}");
    assert_eq!(slept.lock().unwrap().len(), 3, "four tries in all");

    google.queue_faults_on(FaultTarget::Token, [Fault::RateLimited { retry_after_secs: 1 }; 4]);
    let err = reader().read(&sheet(0)).await.expect_err("a token endpoint that keeps asking to slow down");
    assert!(
        matches!(err, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(1)),
        "is a rate limit with Google's wait: {err:?}"
    );
    assert!(err.to_string().contains("slow down"), "in words: {err}");
    assert_eq!(google.count("values.get"), 1, "no value read was tried without a token");
}

#[tokio::test]
async fn export_faults_back_off_then_succeed_or_say_so() {
    let google = fake().await;
    google.share_with_link(ID);
    let secrets = Arc::new(MemorySecrets::new());
    let (retry, slept) = recording_retry();
    let reader = Reader::new(GoogleAuth::PublicCsv, secrets.clone(), None)
        .with_endpoints(google.endpoints())
        .with_retry(retry.clone());

    google.queue_faults_on(FaultTarget::Export, [Fault::RateLimited { retry_after_secs: 5 }, Fault::ServerError]);
    let table = reader.read(&sheet(0)).await.expect("a 429 and a 500 from the export link are retried");
    assert_eq!(table.rows.len(), 2, "the retried export returns the rows");
    assert_eq!((google.count("export"), google.count("download")), (3, 1), "two refusals, then the download");
    let waits = slept.lock().unwrap().clone();
    assert_eq!(waits.len(), 2, "one wait per failure: {waits:?}");
    assert!(waits[0] >= Duration::from_secs(5), "Retry-After is waited at least: {waits:?}");

    google.queue_faults_on(FaultTarget::Export, [Fault::ServerError; 4]);
    let err = reader.read(&sheet(0)).await.expect_err("retries of the export are bounded");
    assert!(matches!(err, Error::Server { status: 500, .. }), "the last failure is reported: {err:?}");
    assert!(err.is_transient() && err.to_string().contains("tries again later"), "in words: {err}");

    google.queue_faults_on(FaultTarget::Export, [Fault::RateLimited { retry_after_secs: 2 }; 4]);
    let err = reader.read(&sheet(0)).await.expect_err("an export that keeps asking to slow down");
    assert!(
        matches!(err, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(2)),
        "is a rate limit with Google's wait: {err:?}"
    );
    assert!(err.is_transient() && err.to_string().contains("slow down"), "in words: {err}");
    assert_eq!(google.count("download"), 1, "nothing was downloaded by the failed reads");
}

#[tokio::test]
async fn headers_are_held_to_the_same_rules_as_a_csv_file() {
    let google = fake().await;
    google.share_with_link(ID);
    google.add_api_key(API_KEY, true);
    let secrets = Arc::new(MemorySecrets::new());
    let by_api = reader(&google, api_key_auth(&secrets, API_KEY), &secrets);
    let by_export = reader(&google, GoogleAuth::PublicCsv, &secrets);
    for (mode, reader) in [("api_key", &by_api), ("public_csv", &by_export)] {
        google.set_tab(ID, 0, "Leads", &[&[], &[" Name", "Phone ", "", ""], &["Ann", "+1"]]);
        let table = reader.read(&sheet(0)).await.unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(table.headers, ["Name", "Phone"], "{mode}: headers trimmed, as in a CSV file");
        assert_eq!(cells(&table), [(3, vec!["Ann", "+1"])], "{mode}: a blank first row is not the header");

        google.set_tab(ID, 0, "Leads", &[&["Name", "Phone", "Name "], &["Ann", "+1", "Ann"]]);
        let err = reader.read(&sheet(0)).await.expect_err("two columns of one name");
        assert!(
            matches!(&err, Error::DuplicateHeader { name, first, second, .. } if name == "Name" && first == "A" && second == "C"),
            "{mode}: a repeated header is refused as in a CSV file: {err:?}"
        );
        assert!(err.to_string().contains("rename one"), "{mode}: says what to do: {err}");

        google.set_tab(ID, 0, "Leads", &[&["Name", "Phone"], &["Ann", "+1"], &["Bob", "+2", "", "call after 6"]]);
        let err = reader.read(&sheet(0)).await.expect_err("a value right of the last header");
        assert!(
            matches!(&err, Error::UnnamedColumn { column, row: 3, .. } if column == "D"),
            "{mode}: refused like a CSV file's unnamed column, not cut off unseen: {err:?}"
        );
        assert!(!err.is_transient(), "{mode}: the user must fix the sheet");
    }
    let err = by_api.read(&sheet(0)).await.unwrap_err().to_string();
    assert!(err.contains("\"Leads\""), "the API names the tab by its title: {err}");
}

/// A data folder whose Google endpoints are the fake, an 8x8 account on the
/// simulator, and an API key for link-shared sheets.
async fn core_on(google: &FakeGoogle) -> (tempfile::TempDir, sendrow_core::Core, sendrow_core::sim::Simulator) {
    let sim = crate::sim().await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set("google-api-key:main", &Secret::new(API_KEY)).unwrap();
    google.add_api_key(API_KEY, true);
    google.share_with_link(ID);
    let core = sendrow_core::Core::open(dir.path(), secrets).unwrap();
    core.set_google_base_url(Some(&google.base_url())).unwrap();
    crate::add_main_account(&core, &sim).await;
    (dir, core, sim)
}

fn google_spec(
    name: &str,
    sheet: serde_json::Value,
    auth: serde_json::Value,
) -> sendrow_core::connection::ConnectionSpec {
    let spec = serde_json::json!({
        "name": name, "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}",
        "source": {"type": "google_sheets", "spreadsheet": ID, "sheet": sheet, "auth": auth},
    });
    sendrow_core::connection::ConnectionSpec::parse(&spec.to_string()).expect("the spec parses")
}

#[tokio::test]
async fn a_tab_named_by_its_title_is_saved_by_its_gid() {
    use sendrow_core::source::{GoogleTab, SourceSpec};
    let google = fake().await;
    google.set_tab(ID, 123, "Orders", &[&["Name", "Phone"], &["Ann", "+380671234567"]]);
    google.set_tab(ID, 5, "Empty", &[]);
    let (dir, core, _sim) = core_on(&google).await;
    let api_key = serde_json::json!({"mode": "api_key", "key_entry": "google-api-key:main"});

    let saved = core.add_connection(google_spec("Orders", "Orders".into(), api_key.clone()), dir.path()).await;
    let saved = saved.expect("a tab named by its title is found");
    let SourceSpec::GoogleSheets { sheet, .. } = &saved.connection.spec.source else { panic!("a Google source") };
    assert_eq!(sheet, &Some(GoogleTab::Gid(123)), "the gid is stored, not the title");
    assert_eq!(serde_json::to_value(&saved.connection.spec).unwrap()["source"]["sheet"], 123, "as a number");
    google.rename_tab(ID, 123, "Замовлення");
    google.set_tab(ID, 123, "Замовлення", &[&["Name", "Phone"], &["Ann", "+380671234567"], &["Bo", "+380671234568"]]);
    let (items, _) = core.preview("Orders", None).await.expect("the renamed tab is still read, by its gid");
    assert_eq!(items.iter().map(|i| i.composed.text.as_str()).collect::<Vec<_>>(), ["Hi Bo"], "the new row only");

    let numeric = core.add_connection(google_spec("By gid", 123.into(), api_key.clone()), dir.path()).await;
    assert!(numeric.is_ok(), "a spec with a numeric gid saves as before: {numeric:?}");

    let err = core.add_connection(google_spec("Typo", "Ordrs".into(), api_key.clone()), dir.path()).await;
    let err = err.expect_err("no tab has that title").to_string();
    for part in ["source.sheet: ", "no tab titled \"Ordrs\"", "\"Leads\" (gid 0)", "\"Замовлення\" (gid 123)"]
    {
        assert!(err.contains(part), "the error names the title and the tabs there are ({part:?}): {err}");
    }

    let link = serde_json::json!({"mode": "public_csv"});
    let err = core.add_connection(google_spec("Link", "Orders".into(), link), dir.path()).await;
    let err = err.expect_err("the export link cannot list tabs").to_string();
    assert!(err.starts_with("source.sheet: ") && err.contains("#gid="), "it asks for the tab's address: {err}");

    let err = core.add_connection(google_spec("Empty", "Empty".into(), api_key), dir.path()).await;
    let err = err.expect_err("an empty tab has no columns").to_string();
    assert!(
        err.starts_with("source: the Google sheet's tab with gid 5 is empty: it has no header row"),
        "an empty tab is said to have no header row: {err}"
    );
    let names: Vec<String> = core.connections().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["By gid", "Orders"], "nothing refused was saved");
}

/// "Every Google base URL is configurable": each endpoint on its own, not
/// only one address laid out like the fake.
#[tokio::test]
async fn each_google_endpoint_can_be_set_on_its_own() {
    use sendrow_core::source::google::GoogleEndpoints;
    use sendrow_core::source::{read_with, SourceSpec};

    let google = fake().await;
    google.add_api_key(API_KEY, true);
    google.share_with_link(ID);
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set("google-api-key:main", &Secret::new(API_KEY)).unwrap();
    let core = sendrow_core::Core::open(dir.path(), secrets).unwrap();
    let source = |auth: serde_json::Value| -> SourceSpec {
        serde_json::from_value(
            serde_json::json!({"type": "google_sheets", "spreadsheet": ID, "sheet": 0, "auth": auth}),
        )
        .unwrap()
    };
    let by_api = source(serde_json::json!({"mode": "api_key", "key_entry": "google-api-key:main"}));
    let by_export = source(serde_json::json!({"mode": "public_csv"}));

    assert_eq!(core.google_access().endpoints, GoogleEndpoints::default(), "Google's own unless told otherwise");
    let fake = google.endpoints();
    core.set_google_endpoints(Some(&fake)).unwrap();
    assert_eq!(core.google_access().endpoints, fake, "each address is kept as given");
    assert_eq!(cells(&read_with(&by_api, &core.google_access()).await.unwrap()).len(), 2, "the API read works");
    assert_eq!(cells(&read_with(&by_export, &core.google_access()).await.unwrap()).len(), 2, "so does the export");

    // Only the export host moves (nothing listens on port 9): API reads are untouched.
    core.set_google_endpoints(Some(&GoogleEndpoints { docs: "http://127.0.0.1:9".into(), ..fake })).unwrap();
    assert!(read_with(&by_api, &core.google_access()).await.is_ok(), "the API address did not move");
    let err = read_with(&by_export, &core.google_access()).await.unwrap_err().to_string();
    assert!(err.contains("127.0.0.1:9"), "the export goes to its own address, and the error names it: {err}");
    core.set_google_endpoints(None).unwrap();
    assert_eq!(core.google_access().endpoints, GoogleEndpoints::default(), "and back to Google's own");
}
