-- Connections: a source, an 8x8 account and a message template. The
-- validated connection spec is kept whole as JSON so optional settings can
-- grow without a migration; the columns are what queries filter on.
CREATE TABLE connections (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    spec          TEXT NOT NULL,
    auto_update   INTEGER NOT NULL DEFAULT 1,
    -- active | paused; paused connections carry the reason shown to the user.
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    status_reason TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
