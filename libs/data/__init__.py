"""Loaders that turn stored market data files into domain values."""
