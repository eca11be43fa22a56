"""Operator notifications (pure): which facts an operator is told about, and in what words.

Nothing here does I/O: monitor's notifier feeds messages and day figures in, stores what comes out
and delivers it to the configured channels.
"""
