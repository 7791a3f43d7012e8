"""Compressed JSON kept in the database for queued inventory syncs: the body and the answer.

Why: a 10,000-asset inventory is 5 MB of JSON and its per-item answer 2 MB. Stored as text or
``jsonb``, every byte is quoted by the driver and parsed by PostgreSQL (60-170 ms each way, and
``jsonb`` is decoded again into Python on the way out only to be encoded once more for the
client). zlib at level 1 shrinks such JSON about twelve times in ~12 ms, and the answer is sent
back as the stored bytes (``orjson.Fragment``) without ever being parsed.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

LEVEL = 1  # JSON compresses well even at the fastest level; higher levels cost 3x the time


def pack(value: Any) -> bytes:
    """JSON-encode ``value`` and compress it."""
    return zlib.compress(orjson.dumps(value), LEVEL)


def pack_bytes(raw: bytes) -> bytes:
    return zlib.compress(raw, LEVEL)


def unpack_bytes(blob: bytes | memoryview) -> bytes:
    """The original bytes (PostgreSQL hands binary columns back as ``memoryview``)."""
    return zlib.decompress(bytes(blob))
