"""Sample documents for tests, generated at run time so nothing binary is committed."""
