-- Base schemas: risk and executor working state, the ledger's books.
-- depends:

CREATE SCHEMA IF NOT EXISTS risk;
CREATE SCHEMA IF NOT EXISTS executor;
CREATE SCHEMA IF NOT EXISTS ledger;

CREATE TABLE risk.outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          text NOT NULL,
    payload      bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX risk_outbox_pending ON risk.outbox (seq) WHERE published_at IS NULL;

-- One row per signal-week: the once-per-week latch and the legs it opened.
CREATE TABLE risk.trades (
    trade_id          uuid PRIMARY KEY,
    latch_key         text NOT NULL UNIQUE,
    signal_id         uuid NOT NULL,
    signal            text NOT NULL,
    trading_week      text NOT NULL,
    status            text NOT NULL CHECK (status IN ('open', 'exiting')),
    lots              integer NOT NULL,
    legs              jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    exit_signal_id    uuid,
    exit_requested_at timestamptz
);

CREATE TABLE executor.outbox (LIKE risk.outbox INCLUDING ALL);

CREATE TABLE executor.orders (
    client_order_id text PRIMARY KEY,
    trade_id        uuid NOT NULL,
    command         jsonb NOT NULL,
    status          text NOT NULL,
    broker_order_id text,
    filled_quantity integer NOT NULL DEFAULT 0,
    average_price   numeric(14, 2),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger.processed_messages (
    consumer     text NOT NULL,
    message_id   uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

CREATE TABLE ledger.signals (
    signal_id     uuid PRIMARY KEY,
    message_id    uuid NOT NULL,
    dedup_key     text NOT NULL,
    signal        text NOT NULL,
    action        text NOT NULL,
    symbol        text NOT NULL,
    option_type   text,
    strike        numeric(12, 2),
    stop_level    numeric(12, 2),
    price         numeric(12, 2),
    bar_time      timestamptz,
    alert_id      text,
    trading_week  text NOT NULL,
    payload_style text NOT NULL,
    source_ip     text,
    received_at   timestamptz NOT NULL,
    deliveries    integer NOT NULL DEFAULT 1
);

CREATE TABLE ledger.risk_decisions (
    message_id uuid PRIMARY KEY,
    signal_id  uuid NOT NULL,
    trade_id   uuid,
    action     text NOT NULL,
    outcome    text NOT NULL,
    reasons    text[] NOT NULL,
    decided_at timestamptz NOT NULL
);
CREATE INDEX risk_decisions_signal ON ledger.risk_decisions (signal_id);

CREATE TABLE ledger.orders (
    client_order_id text PRIMARY KEY,
    trade_id        uuid NOT NULL,
    signal_id       uuid NOT NULL,
    signal          text NOT NULL,
    purpose         text NOT NULL,
    leg             text NOT NULL,
    instrument_key  text NOT NULL,
    symbol          text NOT NULL,
    expiry          date NOT NULL,
    strike          numeric(12, 2) NOT NULL,
    option_right    text NOT NULL,
    side            text NOT NULL,
    quantity        integer NOT NULL,
    status          text NOT NULL,
    broker_order_id text,
    average_price   numeric(14, 2),
    reason          text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX orders_trade ON ledger.orders (trade_id);

CREATE TABLE ledger.order_events (
    message_id      uuid PRIMARY KEY,
    client_order_id text NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    ts_event        timestamptz NOT NULL
);

CREATE TABLE ledger.fills (
    fill_id         text PRIMARY KEY,
    message_id      uuid NOT NULL UNIQUE,
    client_order_id text NOT NULL,
    trade_id        uuid NOT NULL,
    signal          text NOT NULL,
    purpose         text NOT NULL,
    leg             text NOT NULL,
    instrument_key  text NOT NULL,
    side            text NOT NULL,
    quantity        integer NOT NULL,
    price           numeric(14, 2) NOT NULL,
    charges         numeric(14, 2) NOT NULL,
    price_source    text NOT NULL,
    filled_at       timestamptz NOT NULL
);
CREATE INDEX fills_trade ON ledger.fills (trade_id);

CREATE TABLE ledger.positions (
    instrument_key text PRIMARY KEY,
    symbol         text NOT NULL,
    expiry         date NOT NULL,
    strike         numeric(12, 2) NOT NULL,
    option_right   text NOT NULL,
    net_quantity   integer NOT NULL,
    average_price  numeric(14, 4) NOT NULL,
    realized_pnl   numeric(16, 2) NOT NULL DEFAULT 0,
    charges        numeric(16, 2) NOT NULL DEFAULT 0,
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE ledger.control_events (
    message_id uuid PRIMARY KEY,
    state      text NOT NULL,
    kill_switch boolean NOT NULL,
    changed_by text NOT NULL,
    reason     text NOT NULL,
    ts_event   timestamptz NOT NULL
);
