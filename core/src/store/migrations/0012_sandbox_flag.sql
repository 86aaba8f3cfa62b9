-- The built-in sandbox is the account "Open the sandbox" created, marked here,
-- never an account that merely has its name: the app points the sandbox at
-- the in-process simulator at every start, and a user's own "Sandbox" must
-- never be rewired (its real key would go to the simulator, its SMS nowhere).
ALTER TABLE accounts ADD COLUMN is_sandbox INTEGER NOT NULL DEFAULT 0 CHECK (is_sandbox IN (0, 1));
CREATE UNIQUE INDEX accounts_one_sandbox ON accounts (is_sandbox) WHERE is_sandbox = 1;

-- Older versions knew the sandbox by its name; the one they created also has
-- the simulator's subaccount and a loopback address of their own choosing.
UPDATE accounts SET is_sandbox = 1
 WHERE name = 'Sandbox' AND subaccount_id = 'sandbox_hq' AND region IS NULL
   AND base_url LIKE 'http://127.0.0.1:%';

-- A user's own account called "Sandbox" that an older version rewired to its
-- simulator: an 8x8 region gives its address back; a custom address is lost,
-- so the account stops sending until the user adds it again, and says why.
UPDATE accounts SET base_url = CASE region
        WHEN 'apac' THEN 'https://sms.8x8.com'
        WHEN 'us' THEN 'https://sms.us.8x8.com'
        WHEN 'eu' THEN 'https://sms.8x8.uk'
        WHEN 'id' THEN 'https://sms.8x8.id'
    END
 WHERE name = 'Sandbox' AND is_sandbox = 0 AND region IN ('apac', 'us', 'eu', 'id')
   AND base_url LIKE 'http://127.0.0.1:%';
UPDATE accounts SET status = 'inactive', status_code = NULL,
       status_reason = 'an older Sendrow pointed this account at its built-in sandbox, and its own address is lost: remove it and add it again with its base URL'
 WHERE name = 'Sandbox' AND is_sandbox = 0 AND region IS NULL
   AND base_url LIKE 'http://127.0.0.1:%';
