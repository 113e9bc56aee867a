"""Time-ordered record ids (ULID layout) so the newest records sort first in list indexes."""
from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def is_valid_id(value: str) -> bool:
    return isinstance(value, str) and len(value) == 26 and all(c in _ALPHABET for c in value)
