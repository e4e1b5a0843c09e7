"""Readiness certificates: ``lifecycle`` (issue on a verdict, supersede, revoke, automatic
issue), ``standing`` (finding them, and what the public verification says), ``codes``."""
