"""Subcommands. Each module: ``register(subparsers)`` adding a parser whose ``func`` runs it."""
