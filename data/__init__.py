"""Dataset loaders into one canonical case schema."""
