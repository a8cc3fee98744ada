"""Models of the tokens app."""
