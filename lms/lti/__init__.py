"""LTI 1.3 tool: login, launch, deep linking, grade passback, roster sync."""
