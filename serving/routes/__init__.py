"""Versioned API routes; each stays a few lines over the services."""
