-- Marks on positions and realised P&L per fill, for the daily mark-to-market P&L.
-- depends: 0004.backtest-runs

ALTER TABLE ledger.positions ADD COLUMN mark_price numeric(14, 2);
ALTER TABLE ledger.positions ADD COLUMN mark_source text;
ALTER TABLE ledger.positions ADD COLUMN marked_at timestamptz;
ALTER TABLE ledger.fills ADD COLUMN realized_pnl numeric NOT NULL DEFAULT 0;

CREATE TABLE ledger.pnl_snapshots (
    message_id     uuid PRIMARY KEY,
    trading_day    date NOT NULL,
    realized       numeric NOT NULL,
    unrealized     numeric NOT NULL,
    charges        numeric NOT NULL,
    net            numeric NOT NULL,
    open_positions integer NOT NULL,
    taken_at       timestamptz NOT NULL
);
CREATE INDEX pnl_snapshots_day ON ledger.pnl_snapshots (trading_day, taken_at);
