"""Authoring in the browser and the API: courses, modules and their lessons written as drafts,
published as numbered versions that are kept, compared and restored (issue 16)."""
