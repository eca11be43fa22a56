DROP TABLE ledger.control_facts;
DROP TABLE risk.pending_approvals;
ALTER TABLE risk.trades DROP COLUMN exit_reason;
ALTER TABLE risk.trades DROP COLUMN bullish;
ALTER TABLE risk.trades DROP COLUMN stop_level;
