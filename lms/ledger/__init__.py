"""The floor every domain writes to: the append-only completion ledger and the audit chain."""
