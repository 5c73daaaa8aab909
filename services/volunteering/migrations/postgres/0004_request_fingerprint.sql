-- The SHA-256 of the request a key was first used with: the same request_id
-- with another request is refused (REQUEST_ID_REUSED). Empty for keys kept
-- before this migration and for client streams.
ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
