"""Check that caller-supplied JSON can be stored in Firestore as it is, so that storing it can never fail
with a server error: Firestore refuses arrays directly inside arrays, integers beyond 64 bits, reserved
(`__x__`) or empty field names, text that is not valid UTF-8, and nesting deeper than 20 levels.
Non-finite floats (which Python's JSON parser accepts as NaN/Infinity) are refused too: they could not be
rendered back as JSON.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_DEPTH = 16
# JSON values (objects, arrays and scalars together) in one job input or worker result. Bytes alone do not
# bound memory: 64 KiB of `{}` is ~21,000 objects, each a Python dict of ~64 bytes and a Firestore map on
# every read (docs/reliability.md, "Bounded documents"). 5,000 leaves room for any reasonable payload.
MAX_JSON_VALUES = 5_000
MAX_KEY_BYTES = 1500
_INT64 = (-(2**63), 2**63 - 1)
_RESERVED_KEY = re.compile(r"^__.*__$")


class UnstorableValue(ValueError):
    """The value cannot be stored; the message says where and why."""


def check_storable(value: Any, where: str = "input", depth: int = 0, in_array: bool = False) -> None:
    if depth > MAX_DEPTH:
        raise UnstorableValue(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_text(value, where)
        return
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise UnstorableValue(f"{where}: integers must fit in 64 bits")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableValue(f"{where}: numbers must be finite")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, list):
                raise UnstorableValue(f"{where}[{index}]: arrays cannot directly contain arrays")
            check_storable(item, f"{where}[{index}]", depth + 1, in_array=True)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key == "":
                raise UnstorableValue(f"{where}: object keys must be non-empty strings")
            if _RESERVED_KEY.match(key):
                raise UnstorableValue(f"{where}: object keys of the form __name__ are reserved")
            _check_text(key, where)
            if len(key.encode("utf-8")) > MAX_KEY_BYTES:
                raise UnstorableValue(f"{where}: object keys are limited to {MAX_KEY_BYTES} bytes")
            check_storable(item, f"{where}.{key}", depth + 1)
        return
    raise UnstorableValue(f"{where}: unsupported value of type {type(value).__name__}")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's \\uD800-style escapes can produce lone surrogates, which are not valid UTF-8.
        raise UnstorableValue(f"{where}: text must be valid Unicode (no lone surrogates)") from None


def count_json_values(value: Any, stop_after: int) -> int:
    """Objects, arrays and scalars in `value` (itself included), counted up to `stop_after` + 1 at most (a
    count past the limit stops early: the walk never costs more than the limit)."""
    count = 0
    pending = [value]
    while pending and count <= stop_after:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def check_json_values(value: Any, where: str = "input", limit: int = MAX_JSON_VALUES) -> None:
    if count_json_values(value, limit) > limit:
        raise UnstorableValue(
            f"{where}: more than {limit} JSON values (objects, arrays and scalars together)"
        )
