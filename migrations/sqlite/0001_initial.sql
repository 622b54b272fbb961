-- Accounts, token state, documents and workflows.
-- Timestamps shown to clients are RFC 3339 text with a fixed six-digit
-- fraction, so text order is time order; expiry times are Unix seconds.

CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    email              TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    first_name         TEXT,
    last_name          TEXT,
    company            TEXT,
    created_at         TEXT NOT NULL,
    -- Tokens issued before this Unix second are refused (logout everywhere).
    tokens_valid_after INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_email_unique ON users (email);

-- One family per login; every refresh token descends from it.
CREATE TABLE token_families (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX token_families_user ON token_families (user_id);

CREATE TABLE refresh_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    family_id  TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access token ids revoked before they expire (logout).
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY NOT NULL,
    owner_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    document_type TEXT NOT NULL,
    status        TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX documents_owner_recent ON documents (owner_id, uploaded_at DESC, id DESC);

CREATE TABLE workflows (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX workflows_owner_recent ON workflows (owner_id, created_at DESC, id DESC);

-- The documents a workflow was started on, in request order. No foreign key
-- to documents: a workflow keeps the record of what it started with even
-- after one of those documents is deleted.
CREATE TABLE workflow_documents (
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (workflow_id, position)
);
