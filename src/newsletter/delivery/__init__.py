"""Delivery backends: where finished messages go (a folder of .eml files, or SMTP relays)."""
