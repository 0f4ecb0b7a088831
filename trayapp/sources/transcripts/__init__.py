"""Readers of Claude Code transcripts: where the ``projects/**/*.jsonl`` files are (``discovery``), byte
ranges of them (``reader``) and one usage line into one ledger row (``decode``). They only read:
the ledger service (:mod:`trayapp.services.ledger_writer`) decides what to read and merges the rows."""
