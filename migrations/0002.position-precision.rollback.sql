ALTER TABLE ledger.positions ALTER COLUMN average_price TYPE numeric(14, 4);
ALTER TABLE ledger.positions ALTER COLUMN realized_pnl TYPE numeric(16, 2);
