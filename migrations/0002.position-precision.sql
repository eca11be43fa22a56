-- Keep the position's average price and realised P&L exact: rounding them on every fill
-- drifted realised P&L by paise over several fills. Display code rounds to the paisa.
-- depends: 0001.base

ALTER TABLE ledger.positions ALTER COLUMN average_price TYPE numeric;
ALTER TABLE ledger.positions ALTER COLUMN realized_pnl TYPE numeric;
