"""Models of the passkeys app."""
