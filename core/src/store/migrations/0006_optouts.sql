-- Numbers that must never be texted, in E.164, whatever connection finds them.
CREATE TABLE optouts (
    phone    TEXT PRIMARY KEY,
    note     TEXT,
    added_at TEXT NOT NULL
);
