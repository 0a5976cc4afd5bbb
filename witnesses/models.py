"""Models of the witnesses app."""
