-- Application settings the user chooses (language, default country, ...),
-- one row per key, values as JSON text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
