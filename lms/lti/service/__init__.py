"""LTI use cases, one module per service: platforms, launch, deep_linking, grades, roster.

Each function takes the actor (where there is one) and ``now``, writes and flushes; the view or
the CLI commits.
"""
