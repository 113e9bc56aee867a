"""Names of definitions and fields: a lower-case identifier. Kept apart from the field models so that
code checking a name (the definition routes) does not import the form engine."""

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"  # pydantic runs it with Rust regex: $ is the very end

__all__ = ["NAME_PATTERN"]
