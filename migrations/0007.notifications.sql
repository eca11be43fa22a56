-- Operator notifications: one row per notification and channel, delivered by monitor.
-- depends: 0005.marks-and-daily-pnl

CREATE SCHEMA IF NOT EXISTS monitor;

-- The dedupe key comes from the source fact (message id, trade id or trading day), so a replayed
-- fact finds its row and is never told twice on the same channel.
CREATE TABLE monitor.notifications (
    id                bigserial PRIMARY KEY,
    dedupe_key        text NOT NULL,
    channel           text NOT NULL,
    kind              text NOT NULL,
    severity          text NOT NULL,
    payload           jsonb NOT NULL,
    source_message_id uuid,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_attempt_at   timestamptz,
    sent_at           timestamptz,
    UNIQUE (dedupe_key, channel)
);
CREATE INDEX notifications_pending ON monitor.notifications (channel, id)
    WHERE status = 'pending';

-- What the notifier must remember between messages, e.g. whether the broker session was valid.
CREATE TABLE monitor.notifier_state (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
