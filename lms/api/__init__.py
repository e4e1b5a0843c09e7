"""JSON API v1: personal access tokens, the same services as the HTML views, OpenAPI."""
