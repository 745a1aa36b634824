"""Thin cogs: each command checks, defers, calls the service and renders the result."""
