"""The one storage layer: every DynamoDB call of the platform lives in this package."""
from .models import configure_models
from .tables import create_tables

__all__ = ["configure_models", "create_tables"]
