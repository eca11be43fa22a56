DROP VIEW ledger."BacktestTrades";
DROP TABLE ledger.backtest_trades;
DROP TABLE ledger.backtest_runs;
