"""Field service (pure): settings of a form's field work (definition kind `field_service`), on-site
visits, and the per-field merge that offline sync uses."""
from .definition import FieldServiceDefinition, managed_fields, parse_field_service

__all__ = ["FieldServiceDefinition", "managed_fields", "parse_field_service"]
