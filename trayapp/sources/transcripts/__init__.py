"""Claude Code transcript scanning: discovery of ``projects/**/*.jsonl``, byte-level decoding of usage
lines, and the incremental scanner that feeds the ledger database."""
