"""Sync with central over MQTT: the outbox sender, request/response, and offline mode."""
