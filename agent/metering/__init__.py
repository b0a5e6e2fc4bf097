"""Metering: snapshot → release → follow → settle, each step persisted before the next."""
