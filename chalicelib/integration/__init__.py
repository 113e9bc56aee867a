"""Integration logic, pure (no boto3, no chalice): the outbound event envelope, webhook signing,
inbound mapping definitions, CSV / JSON-lines rows."""
__all__ = ["envelope", "signing", "mapping", "rows"]
