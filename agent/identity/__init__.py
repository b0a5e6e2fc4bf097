"""Identity at the device: card and code login, card conversions, rate limits, sessions."""
