"""Models of the sessions_app app."""
