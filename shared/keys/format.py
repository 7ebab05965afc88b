"""API key format: ``sk_<env>_<32 random base62><6 base62 checksum>``.

The checksum lets us (and secret scanners) reject typos and random strings
without a database lookup. It is CRC32, which detects every error burst of up
to 32 bits, so any single changed character is always caught; it is not a
security measure (the 190 random bits are).
"""

import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass
from typing import Literal, get_args

KeyEnvironment = Literal["live", "test"]

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 32  # 32 * log2(62) ~= 190 bits of entropy
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so every CRC32 value has its own encoding
PREFIX_LENGTH = len("sk_live_")  # both environments have the same length
KEY_LENGTH = PREFIX_LENGTH + RANDOM_LENGTH + CHECKSUM_LENGTH
DISPLAY_PREFIX_LENGTH = 12

_ENVIRONMENTS: tuple[KeyEnvironment, ...] = get_args(KeyEnvironment)
_BASE62_SET = frozenset(BASE62_ALPHABET)


@dataclass(frozen=True)
class ParsedApiKey:
    environment: KeyEnvironment
    key: str


def _prefix(environment: KeyEnvironment) -> str:
    return f"sk_{environment}_"


def _base62(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        digits.append(BASE62_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    """Checksum over prefix + random part, so a key moved between envs fails."""
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_api_key(environment: KeyEnvironment) -> str:
    if environment not in _ENVIRONMENTS:
        raise ValueError(f"unknown environment: {environment!r}")
    random_part = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(RANDOM_LENGTH))
    body = _prefix(environment) + random_part
    return body + _checksum(body)


def parse_api_key(text: str) -> ParsedApiKey | None:
    """Return the parsed key, or None if it cannot be one of ours (never raises)."""
    if not isinstance(text, str) or len(text) != KEY_LENGTH:
        return None
    environment = next((e for e in _ENVIRONMENTS if text.startswith(_prefix(e))), None)
    if environment is None:
        return None
    tail = text[PREFIX_LENGTH:]
    if not all(ch in _BASE62_SET for ch in tail):
        return None
    body, given = text[:-CHECKSUM_LENGTH], text[-CHECKSUM_LENGTH:]
    # Constant time so the check leaks nothing about how close a guess was.
    if not hmac.compare_digest(_checksum(body), given):
        return None
    return ParsedApiKey(environment=environment, key=text)


def hash_api_key(key: str) -> str:
    """What we store: the key has enough entropy that a fast hash is fine."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_prefix(key: str) -> str:
    """Non-secret identifier shown in dashboards and logs (e.g. ``sk_live_AbC1``)."""
    return key[:DISPLAY_PREFIX_LENGTH]
