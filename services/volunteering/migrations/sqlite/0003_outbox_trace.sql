-- The confirmation's W3C traceparent, so its payment to scoring (sent later
-- by the relay) joins the confirmation's trace. Empty for older rows.
ALTER TABLE outbox ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
