DROP TABLE ledger.pnl_snapshots;
ALTER TABLE ledger.fills DROP COLUMN realized_pnl;
ALTER TABLE ledger.positions DROP COLUMN marked_at;
ALTER TABLE ledger.positions DROP COLUMN mark_source;
ALTER TABLE ledger.positions DROP COLUMN mark_price;
