"""The append-only completion ledger, the audit log, and exports of both."""
