"""Project middleware (security headers)."""
