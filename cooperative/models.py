"""Models of the cooperative app."""
