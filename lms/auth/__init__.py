"""Accounts, roles, login and logout, and the access rule every route declares."""
