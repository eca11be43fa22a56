"""I/O of the notifier: its PostgreSQL tables, the ledger's day figures, the HTTP channels."""
