"""Backtest application layer: data sources, request runner, parameter sweep and HTML report.

The pure engine lives in `libs.strategy.backtest`; this package reads market data through a
`BarSource`, wires the `libs.market` adapters and turns results into JSON documents and reports.
"""
