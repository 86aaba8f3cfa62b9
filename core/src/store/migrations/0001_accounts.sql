-- 8x8 accounts. The API key is not here: it lives in the OS keychain under
-- the entry named by secret_ref.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    subaccount_id TEXT NOT NULL,
    -- apac | us | eu | id; NULL when the user gave a custom base URL.
    region        TEXT,
    base_url      TEXT NOT NULL,
    secret_ref    TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    -- 8x8's reason (or ours) when inactive, with 8x8's numeric code when it gave one.
    status_reason TEXT,
    status_code   INTEGER,
    verified_at   TEXT,
    created_at    TEXT NOT NULL
);
