"""SQLite storage: one connection module, one repository module per table group."""
