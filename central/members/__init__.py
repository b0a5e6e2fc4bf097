"""Membership sources (OfficeRnD, files) behind one interface, and the sync rules."""
