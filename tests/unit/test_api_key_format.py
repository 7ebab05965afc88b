import zlib
from collections.abc import Callable

import pytest

from shared.keys.format import (
    BASE62_ALPHABET,
    KEY_LENGTH,
    KeyEnvironment,
    ParsedApiKey,
    generate_api_key,
    hash_api_key,
    key_prefix,
    parse_api_key,
)


@pytest.mark.parametrize("environment", ["live", "test"])
def test_round_trip(environment: KeyEnvironment) -> None:
    key = generate_api_key(environment)
    assert key.startswith(f"sk_{environment}_")
    assert len(key) == KEY_LENGTH == 46
    assert parse_api_key(key) == ParsedApiKey(environment=environment, key=key)


def test_unknown_environment_rejected() -> None:
    with pytest.raises(ValueError):
        generate_api_key("prod")  # type: ignore[arg-type]


def test_keys_are_unique() -> None:
    keys = {generate_api_key("live") for _ in range(2000)}
    assert len(keys) == 2000


def test_known_checksum() -> None:
    # Independent computation of the documented format: CRC32 in 6 base62 digits.
    body = "sk_test_" + "0123456789abcdefghijABCDEFGHIJKL"
    value, digits = zlib.crc32(body.encode()), ""
    for _ in range(6):
        value, d = divmod(value, 62)
        digits = BASE62_ALPHABET[d] + digits
    key = body + digits
    assert parse_api_key(key) == ParsedApiKey(environment="test", key=key)


@pytest.mark.parametrize("environment", ["live", "test"])
def test_every_single_character_typo_is_refused(environment: KeyEnvironment) -> None:
    key = generate_api_key(environment)
    for position, original in enumerate(key):
        for replacement in BASE62_ALPHABET + "_-":
            if replacement == original:
                continue
            typo = key[:position] + replacement + key[position + 1 :]
            assert parse_api_key(typo) is None, (position, replacement)


def test_swapping_environment_prefix_is_refused() -> None:
    key = generate_api_key("test")
    assert parse_api_key("sk_live_" + key[8:]) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: "pk_live_" + k[8:],  # wrong prefix
        lambda k: "sk_prod_" + k[8:],
        lambda k: "SK_LIVE_" + k[8:],
        lambda k: k[:-1],  # too short
        lambda k: k + "0",  # too long
        lambda k: " " + k,
        lambda k: k + "\n",
        lambda k: k[:20] + "-" + k[21:],  # outside the alphabet
        lambda k: k[:20] + "é" + k[21:],
        lambda k: k[:20] + "٣" + k[21:],  # non-ASCII digit
        lambda k: "",
    ],
)
def test_malformed_keys_are_refused(mutate: Callable[[str], str]) -> None:
    assert parse_api_key(mutate(generate_api_key("live"))) is None


def test_non_string_is_refused_without_exception() -> None:
    assert parse_api_key(None) is None  # type: ignore[arg-type]
    assert parse_api_key(b"sk_live_x") is None  # type: ignore[arg-type]


def test_hash_known_answer() -> None:
    assert hash_api_key("sk_test_0123456789abcdefghijABCDEFGHIJ") == (
        "e6a4f00497923ef29ecf447d7595263ae4758b7bc6ed2d0f7d986cc4ba0c1f9d"
    )
    assert hash_api_key("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_key_prefix() -> None:
    key = generate_api_key("live")
    assert key_prefix(key) == key[:12]
    assert key_prefix(key).startswith("sk_live_") and len(key_prefix(key)) == 12
