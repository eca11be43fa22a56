-- The risk gate's own state: stops for server-side exits, pending approvals; the control audit.
-- depends: 0002.position-precision

ALTER TABLE risk.trades ADD COLUMN stop_level numeric(12, 2);
ALTER TABLE risk.trades ADD COLUMN bullish boolean;
ALTER TABLE risk.trades ADD COLUMN exit_reason text;

CREATE TABLE risk.pending_approvals (
    signal_id   uuid PRIMARY KEY,
    signal      jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    resolved_at timestamptz,
    resolution  text CHECK (resolution IN ('approved', 'rejected', 'expired')),
    resolved_by text
);

CREATE TABLE ledger.control_facts (
    message_id  uuid PRIMARY KEY,
    key         text NOT NULL,
    engaged     boolean NOT NULL,
    state       text,
    fact_values jsonb NOT NULL DEFAULT '{}',
    changed_by  text NOT NULL,
    reason      text NOT NULL,
    ts_event    timestamptz NOT NULL
);
CREATE INDEX control_facts_key_time ON ledger.control_facts (key, ts_event);
