"""Performance and risk figures from ledger facts (pure: no I/O, no clock, no environment)."""
