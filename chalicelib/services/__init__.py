"""Service functions: one per use case; they take a Caller and plain data, return plain data."""
