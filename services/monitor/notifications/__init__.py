"""Operator notifications: Kafka facts in, one message per channel out (Telegram, webhook)."""
