import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks

from shared.webhooks.signing import (
    WebhookVerificationError,
    build_headers,
    generate_webhook_secret,
    sign,
    signature_header,
    verify,
)

# Test vector published in the Standard Webhooks spec.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers_for(secret: str = SECRET, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return build_headers([secret], MSG_ID, timestamp, BODY)


def test_known_answer() -> None:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{MSG_ID}.{TIMESTAMP}.".encode() + BODY
    independent = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert independent == EXPECTED_SIGNATURE
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED_SIGNATURE


def test_build_headers() -> None:
    assert headers_for() == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": EXPECTED_SIGNATURE,
        "content-type": "application/json",
    }


def test_valid_message_verifies() -> None:
    verify(SECRET, headers_for(), BODY, now=TIMESTAMP)


def test_header_names_are_case_insensitive() -> None:
    headers = {k.title(): v for k, v in headers_for().items()}
    verify(SECRET, headers, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(header: str) -> None:
    headers = headers_for()
    del headers[header]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_empty_header(header: str) -> None:
    headers = headers_for() | {header: ""}
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_bad_signature() -> None:
    headers = headers_for() | {"webhook-signature": "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="}
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "signature",
    ["garbage", "v1,", "v1,not base64!", "v2," + EXPECTED_SIGNATURE[3:], "v1a,abc", ",", "  "],
)
def test_malformed_signatures_do_not_match(signature: str) -> None:
    headers = headers_for() | {"webhook-signature": signature}
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_tampered_body() -> None:
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers_for(), BODY + b" ", now=TIMESTAMP)


def test_tampered_id() -> None:
    headers = headers_for() | {"webhook-id": "msg_other"}
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_wrong_secret() -> None:
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(generate_webhook_secret(), headers_for(), BODY, now=TIMESTAMP)


def test_stale_timestamp() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers_for(), BODY, now=TIMESTAMP + 301)
    verify(SECRET, headers_for(), BODY, now=TIMESTAMP + 300)


def test_future_timestamp() -> None:
    with pytest.raises(WebhookVerificationError, match="too new"):
        verify(SECRET, headers_for(), BODY, now=TIMESTAMP - 301)
    verify(SECRET, headers_for(), BODY, now=TIMESTAMP - 300)


def test_custom_tolerance() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers_for(), BODY, tolerance_s=10, now=TIMESTAMP + 11)


@pytest.mark.parametrize("timestamp", ["abc", "1614265330.5", "-1", "+1614265330", " 1614265330", "١٦"])
def test_malformed_timestamp(timestamp: str) -> None:
    headers = headers_for() | {"webhook-timestamp": timestamp}
    with pytest.raises(WebhookVerificationError, match="invalid webhook-timestamp"):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_several_signatures_one_valid() -> None:
    other = generate_webhook_secret()
    header = signature_header([other, SECRET], MSG_ID, TIMESTAMP, BODY)
    assert header.split(" ")[1] == EXPECTED_SIGNATURE
    headers = headers_for() | {"webhook-signature": "v1a,xyz v2,abc " + header}
    verify(SECRET, headers, BODY, now=TIMESTAMP)
    verify(other, headers, BODY, now=TIMESTAMP)


def test_signature_header_requires_a_secret() -> None:
    with pytest.raises(ValueError):
        signature_header([], MSG_ID, TIMESTAMP, BODY)


def test_secret_with_or_without_prefix() -> None:
    bare = SECRET.removeprefix("whsec_")
    assert sign(bare, MSG_ID, TIMESTAMP, BODY) == EXPECTED_SIGNATURE
    verify(bare, headers_for(), BODY, now=TIMESTAMP)
    verify(SECRET, headers_for(bare), BODY, now=TIMESTAMP)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not*base64", ""])
def test_invalid_secret(secret: str) -> None:
    with pytest.raises(ValueError):
        sign(secret, MSG_ID, TIMESTAMP, BODY)


def test_generated_secret() -> None:
    secret = generate_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != generate_webhook_secret()


def test_reference_library_accepts_our_headers() -> None:
    secret = generate_webhook_secret()
    now = int(time.time())
    headers = build_headers([secret], MSG_ID, now, BODY)
    assert standardwebhooks.Webhook(secret).verify(BODY, headers) == {"test": 2432232314}


def test_we_accept_reference_library_signatures() -> None:
    secret = generate_webhook_secret()
    moment = datetime.now(tz=UTC)
    signature = standardwebhooks.Webhook(secret).sign(MSG_ID, moment, BODY.decode())
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
    verify(secret, headers, BODY)


def test_reference_library_agrees_on_known_answer() -> None:
    moment = datetime.fromtimestamp(TIMESTAMP, tz=UTC)
    assert standardwebhooks.Webhook(SECRET).sign(MSG_ID, moment, BODY.decode()) == EXPECTED_SIGNATURE
