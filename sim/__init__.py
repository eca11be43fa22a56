"""Local simulators of the external systems strikeflow talks to (tests and demos only)."""
