"""Credentials, their requirement trees, the readiness engine, evidence and certificates."""
