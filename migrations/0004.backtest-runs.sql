-- Stored backtest runs: a run only ever writes its own rows.
-- depends: 0003.risk-gate

CREATE TABLE ledger.backtest_runs (
    run_id           uuid PRIMARY KEY,
    request          jsonb NOT NULL,
    status           text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    summary          jsonb,
    per_signal       jsonb,
    config           jsonb,
    equity_curve     jsonb,
    model_price_flag jsonb,
    run_info         jsonb,
    error            text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz
);

CREATE TABLE ledger.backtest_trades (
    run_id            uuid NOT NULL REFERENCES ledger.backtest_runs (run_id),
    seq               integer NOT NULL,
    signal            text NOT NULL,
    entry_time        timestamptz,
    exit_time         timestamptz,
    exit_reason       text,
    net_pnl           numeric,
    uses_model_prices boolean,
    trade             jsonb NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- The brief's BacktestTrades, as a view over the stored runs.
CREATE VIEW ledger."BacktestTrades" AS
    SELECT run_id, seq, signal, entry_time, exit_time, exit_reason, net_pnl, uses_model_prices
    FROM ledger.backtest_trades;
