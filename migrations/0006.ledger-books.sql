-- The ledger's books: trades and their legs, the hash-chained audit log, state changes and the
-- brief's tables as views.
-- depends: 0005.marks-and-daily-pnl

-- One row per trade (one signal-week), maintained with every fill.
CREATE TABLE ledger.trades (
    trade_id     uuid PRIMARY KEY,
    signal_id    uuid NOT NULL,
    signal       text NOT NULL,
    symbol       text NOT NULL,
    option_type  text NOT NULL CHECK (option_type IN ('CE', 'PE')),
    direction    text NOT NULL CHECK (direction IN ('bullish', 'bearish')),
    expiry       date NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'closed')),
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    realized_pnl numeric NOT NULL DEFAULT 0,
    charges      numeric NOT NULL DEFAULT 0,
    net_pnl      numeric NOT NULL DEFAULT 0,
    fills        integer NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX trades_status ON ledger.trades (status, opened_at);

CREATE TABLE ledger.trade_legs (
    trade_id            uuid NOT NULL REFERENCES ledger.trades (trade_id),
    leg                 text NOT NULL CHECK (leg IN ('MAIN', 'HEDGE')),
    instrument_key      text NOT NULL,
    option_type         text NOT NULL CHECK (option_type IN ('CE', 'PE')),
    strike              numeric(12, 2) NOT NULL,
    expiry              date NOT NULL,
    entry_side          text NOT NULL CHECK (entry_side IN ('BUY', 'SELL')),
    quantity            integer NOT NULL,
    net_quantity        integer NOT NULL,
    average_entry_price numeric,
    exit_quantity       integer NOT NULL DEFAULT 0,
    average_exit_price  numeric,
    realized_pnl        numeric NOT NULL DEFAULT 0,
    charges             numeric NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (trade_id, leg, instrument_key)
);

-- Backfill from the fills already booked, with the same average-price arithmetic as the service.
DO $$
DECLARE
    l        record;
    f        record;
    net      integer;
    signed   integer;
    new_net  integer;
    avg_px   numeric;
    realized numeric;
BEGIN
    FOR l IN
        SELECT f1.trade_id, f1.leg, f1.instrument_key,
               min(f1.filled_at) AS first_at, max(f1.filled_at) AS last_at,
               sum(f1.charges) AS charges,
               sum(f1.quantity) FILTER (WHERE f1.purpose <> 'exit') AS entry_qty,
               sum(f1.quantity * f1.price) FILTER (WHERE f1.purpose <> 'exit') AS entry_value,
               sum(f1.quantity) FILTER (WHERE f1.purpose = 'exit') AS exit_qty,
               sum(f1.quantity * f1.price) FILTER (WHERE f1.purpose = 'exit') AS exit_value,
               (array_agg(f1.side ORDER BY f1.filled_at, f1.fill_id))[1] AS first_side
        FROM ledger.fills f1
        GROUP BY f1.trade_id, f1.leg, f1.instrument_key
    LOOP
        net := 0;
        avg_px := 0;
        realized := 0;
        FOR f IN
            SELECT side, quantity, price FROM ledger.fills
            WHERE trade_id = l.trade_id AND leg = l.leg AND instrument_key = l.instrument_key
            ORDER BY filled_at, fill_id
        LOOP
            signed := CASE f.side WHEN 'BUY' THEN f.quantity ELSE -f.quantity END;
            IF net = 0 OR (net > 0) = (signed > 0) THEN
                avg_px := (abs(net) * avg_px + abs(signed) * f.price) / (abs(net) + abs(signed));
                net := net + signed;
            ELSE
                realized := realized
                    + (f.price - avg_px) * least(abs(net), abs(signed)) * sign(net);
                new_net := net + signed;
                IF new_net = 0 THEN
                    avg_px := 0;
                ELSIF (new_net > 0) <> (net > 0) THEN
                    avg_px := f.price;
                END IF;
                net := new_net;
            END IF;
        END LOOP;

        INSERT INTO ledger.trades (trade_id, signal_id, signal, symbol, option_type, direction,
                                   expiry, status, opened_at, updated_at)
        SELECT x.trade_id, coalesce(o.signal_id, x.trade_id), x.signal,
               coalesce(o.symbol, p.symbol, split_part(x.instrument_key, '-', 1)),
               coalesce(o.option_right, p.option_right, right(x.instrument_key, 2)),
               'bullish', coalesce(o.expiry, p.expiry, l.first_at::date), 'open',
               l.first_at, l.last_at
        FROM ledger.fills x
        LEFT JOIN ledger.orders o ON o.client_order_id = x.client_order_id
        LEFT JOIN ledger.positions p ON p.instrument_key = x.instrument_key
        WHERE x.trade_id = l.trade_id
        ORDER BY (x.leg = 'main') DESC, x.filled_at, x.fill_id
        LIMIT 1
        ON CONFLICT (trade_id) DO NOTHING;

        INSERT INTO ledger.trade_legs (trade_id, leg, instrument_key, option_type, strike, expiry,
                                       entry_side, quantity, net_quantity, average_entry_price,
                                       exit_quantity, average_exit_price, realized_pnl, charges,
                                       updated_at)
        SELECT l.trade_id, upper(l.leg), l.instrument_key,
               coalesce(p.option_right, right(l.instrument_key, 2)),
               coalesce(p.strike, o.strike, 0), coalesce(p.expiry, o.expiry, l.first_at::date),
               l.first_side, coalesce(l.entry_qty, 0), net,
               l.entry_value / nullif(l.entry_qty, 0), coalesce(l.exit_qty, 0),
               l.exit_value / nullif(l.exit_qty, 0), realized, l.charges, l.last_at
        FROM (SELECT 1) one
        LEFT JOIN ledger.positions p ON p.instrument_key = l.instrument_key
        LEFT JOIN LATERAL (SELECT strike, expiry FROM ledger.orders
                           WHERE instrument_key = l.instrument_key LIMIT 1) o ON true;
    END LOOP;

    UPDATE ledger.trades t SET
        realized_pnl = s.realized, charges = s.charges, net_pnl = s.realized - s.charges,
        fills = s.fills,
        status = CASE WHEN s.flat THEN 'closed' ELSE 'open' END,
        closed_at = CASE WHEN s.flat THEN s.last_at END,
        updated_at = s.last_at,
        direction = CASE WHEN (m.option_type = 'PE') = (m.entry_side = 'SELL')
                         THEN 'bullish' ELSE 'bearish' END
    FROM (SELECT trade_id, sum(realized_pnl) AS realized, sum(charges) AS charges,
                 bool_and(net_quantity = 0) AS flat, max(updated_at) AS last_at,
                 (SELECT count(*) FROM ledger.fills x WHERE x.trade_id = g.trade_id) AS fills
          FROM ledger.trade_legs g GROUP BY trade_id) s,
         LATERAL (SELECT option_type, entry_side FROM ledger.trade_legs g2
                  WHERE g2.trade_id = s.trade_id
                  ORDER BY (g2.leg = 'MAIN') DESC LIMIT 1) m
    WHERE t.trade_id = s.trade_id;
END
$$;

-- The append-only, hash-chained audit log (see services/ledger/audit_chain.py).
CREATE TABLE ledger.audit_log (
    seq         bigint PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    ref         text NOT NULL,
    payload     jsonb NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_log_kind_seq ON ledger.audit_log (kind, seq);

CREATE FUNCTION ledger.audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON ledger.audit_log
    FOR EACH ROW EXECUTE FUNCTION ledger.audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON ledger.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.audit_log_refuse_change();

-- Operator commands received (square off all, manual orders, approvals of pending signals).
CREATE TABLE ledger.operator_commands (
    message_id   uuid PRIMARY KEY,
    command      text NOT NULL,
    ref          text NOT NULL,
    requested_by text NOT NULL,
    reason       text NOT NULL,
    payload      jsonb NOT NULL,
    ts_event     timestamptz NOT NULL
);
CREATE INDEX operator_commands_time ON ledger.operator_commands (ts_event);

-- The broker session's validity as the executor reported it.
CREATE TABLE ledger.broker_status (
    message_id    uuid PRIMARY KEY,
    mode          text NOT NULL,
    session_valid boolean NOT NULL,
    detail        text NOT NULL,
    ts_event      timestamptz NOT NULL
);

-- Every change of trading state, control fact or broker session, in time order. ``engaged`` is
-- the switch's own value (for the broker session: the session is valid); ``restricts`` says
-- whether the change puts a restriction on trading (a switch that halts or reduces engaged,
-- automation off, a non-ACTIVE state, an open circuit, an invalid broker session).
CREATE VIEW ledger.state_changes AS
    SELECT ts_event AS changed_at, message_id, 'trading_state' AS key, kill_switch AS engaged,
           state, '{}'::jsonb AS fact_values, changed_by, reason,
           kill_switch OR state <> 'ACTIVE' AS restricts
    FROM ledger.control_events
    UNION ALL
    SELECT ts_event, message_id, key, engaged, state, fact_values, changed_by, reason,
           CASE key
               WHEN 'automation' THEN NOT engaged
               WHEN 'manual_state' THEN coalesce(state, 'ACTIVE') <> 'ACTIVE'
               WHEN 'circuit' THEN coalesce(fact_values->>'state', 'closed') = 'open'
               WHEN 'limits' THEN false
               ELSE engaged
           END
    FROM ledger.control_facts
    UNION ALL
    SELECT ts_event, message_id, 'broker_session', session_valid, NULL,
           jsonb_build_object('mode', mode), 'executor', detail, NOT session_valid
    FROM ledger.broker_status;

-- The brief's tables, as views over the books.

-- Open positions at their latest marks, with the trades that hold them.
CREATE VIEW ledger."LivePositions" AS
    SELECT p.instrument_key, p.symbol, p.expiry, p.strike, p.option_right, p.net_quantity,
           p.average_price, p.mark_price, p.mark_source, p.marked_at,
           (coalesce(p.mark_price, p.average_price) - p.average_price) * p.net_quantity
               AS unrealized_pnl,
           p.realized_pnl, p.charges, p.opened_at, p.updated_at,
           coalesce((SELECT array_agg(DISTINCT t.signal ORDER BY t.signal)
                     FROM ledger.trade_legs g JOIN ledger.trades t USING (trade_id)
                     WHERE g.instrument_key = p.instrument_key AND g.net_quantity <> 0),
                    '{}') AS signals
    FROM ledger.positions p
    WHERE p.net_quantity <> 0;

-- What an operator must look at: denied or held signals, rejected orders, safety changes.
CREATE VIEW ledger."Alerts" AS
    SELECT d.decided_at AS raised_at,
           CASE d.outcome WHEN 'denied' THEN 'warning' ELSE 'info' END AS severity,
           'signal_' || d.outcome AS category, d.signal_id::text AS ref,
           array_to_string(d.reasons, '; ') AS detail
    FROM ledger.risk_decisions d
    WHERE d.outcome IN ('denied', 'pending')
    UNION ALL
    SELECT o.updated_at, 'critical', 'order_rejected', o.client_order_id,
           coalesce(o.reason, 'rejected')
    FROM ledger.orders o
    WHERE o.status = 'REJECTED'
    UNION ALL
    SELECT s.changed_at,
           CASE WHEN s.restricts THEN 'critical' ELSE 'info' END,
           'state_' || s.key, s.message_id::text,
           concat_ws(': ', s.changed_by, s.reason)
    FROM ledger.state_changes s;

-- Every trading event in time order: decisions, orders, broker events, fills, closed trades.
CREATE VIEW ledger."TradingLogs" AS
    SELECT d.decided_at AS logged_at, d.trade_id, s.signal, 'decision_' || d.outcome AS event,
           NULL::text AS client_order_id, NULL::text AS instrument_key, NULL::text AS side,
           NULL::integer AS quantity, NULL::numeric AS price,
           array_to_string(d.reasons, '; ') AS detail
    FROM ledger.risk_decisions d LEFT JOIN ledger.signals s USING (signal_id)
    UNION ALL
    SELECT o.created_at, o.trade_id, o.signal, 'order_submitted', o.client_order_id,
           o.instrument_key, o.side, o.quantity, NULL, o.purpose || ' ' || lower(o.leg)
    FROM ledger.orders o
    UNION ALL
    SELECT e.ts_event, o.trade_id, o.signal,
           CASE e.event_type WHEN 'OrderAccepted' THEN 'order_accepted'
                             WHEN 'OrderRejected' THEN 'order_rejected'
                             ELSE 'order_filled' END,
           e.client_order_id, o.instrument_key, o.side, (e.payload->>'filled_quantity')::integer,
           (e.payload->>'average_price')::numeric, e.payload->>'reason'
    FROM ledger.order_events e LEFT JOIN ledger.orders o USING (client_order_id)
    UNION ALL
    SELECT f.filled_at, f.trade_id, f.signal, 'fill', f.client_order_id, f.instrument_key,
           f.side, f.quantity, f.price, 'charges ' || f.charges::text
    FROM ledger.fills f
    UNION ALL
    SELECT t.closed_at, t.trade_id, t.signal, 'trade_closed', NULL, NULL, NULL, NULL, NULL,
           'net ' || round(t.net_pnl, 2)::text
    FROM ledger.trades t
    WHERE t.status = 'closed';

-- Every TradingView alert received, with what the risk gate made of it.
CREATE VIEW ledger."WebhookSignals" AS
    SELECT s.signal_id, s.signal, s.action, s.symbol, s.option_type, s.strike, s.stop_level,
           s.price, s.bar_time, s.alert_id, s.trading_week, s.payload_style, s.source_ip,
           s.received_at, s.deliveries, d.outcome, d.reasons, d.trade_id, d.decided_at
    FROM ledger.signals s
    LEFT JOIN LATERAL (SELECT outcome, reasons, trade_id, decided_at
                       FROM ledger.risk_decisions
                       WHERE signal_id = s.signal_id
                       ORDER BY decided_at DESC LIMIT 1) d ON true;

-- Risk figures per trading day (IST): trades, realised P&L and charges, the latest
-- mark-to-market snapshot, and how many signals the gate denied.
CREATE VIEW ledger."RiskMetrics" AS
    WITH days AS (
        SELECT (filled_at AT TIME ZONE 'Asia/Kolkata')::date AS trading_day FROM ledger.fills
        UNION
        SELECT trading_day FROM ledger.pnl_snapshots
        UNION
        SELECT (decided_at AT TIME ZONE 'Asia/Kolkata')::date FROM ledger.risk_decisions
    )
    SELECT d.trading_day,
           (SELECT count(*) FROM ledger.trades t
            WHERE (t.opened_at AT TIME ZONE 'Asia/Kolkata')::date = d.trading_day)
               AS trades_opened,
           (SELECT count(*) FROM ledger.trades t
            WHERE (t.closed_at AT TIME ZONE 'Asia/Kolkata')::date = d.trading_day)
               AS trades_closed,
           f.fills, coalesce(f.realized, 0) AS realized_pnl, coalesce(f.charges, 0) AS charges,
           coalesce(f.realized, 0) - coalesce(f.charges, 0) AS net_realized_pnl,
           p.unrealized AS unrealized_pnl, p.net AS net_pnl, p.open_positions,
           p.taken_at AS snapshot_at,
           (SELECT count(*) FROM ledger.risk_decisions r
            WHERE r.outcome = 'denied'
              AND (r.decided_at AT TIME ZONE 'Asia/Kolkata')::date = d.trading_day)
               AS signals_denied
    FROM days d
    LEFT JOIN LATERAL (SELECT count(*) AS fills, sum(realized_pnl) AS realized,
                              sum(charges) AS charges
                       FROM ledger.fills
                       WHERE (filled_at AT TIME ZONE 'Asia/Kolkata')::date = d.trading_day) f
        ON true
    LEFT JOIN LATERAL (SELECT unrealized, net, open_positions, taken_at
                       FROM ledger.pnl_snapshots s
                       WHERE s.trading_day = d.trading_day
                       ORDER BY taken_at DESC LIMIT 1) p ON true;
