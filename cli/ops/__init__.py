"""Operator commands: the desk's HTTP routes (monitor, ingest, executor) as one command each."""
