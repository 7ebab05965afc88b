"""Standard Webhooks signing (shared/outbound/signing.py), checked against the spec's test vector and
verified with the `standardwebhooks` package, as receivers verify."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
from standardwebhooks.webhooks import WebhookVerificationError

from shared.outbound.signing import build_headers, generate_signing_secret, sign, signature_header

# Test vector published in the Standard Webhooks spec.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_known_answer() -> None:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{MSG_ID}.{TIMESTAMP}.".encode() + BODY
    independent = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert independent == EXPECTED_SIGNATURE
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED_SIGNATURE


def test_reference_library_agrees_on_known_answer() -> None:
    moment = datetime.fromtimestamp(TIMESTAMP, tz=UTC)
    assert standardwebhooks.Webhook(SECRET).sign(MSG_ID, moment, BODY.decode()) == EXPECTED_SIGNATURE


def test_build_headers() -> None:
    assert build_headers([SECRET], MSG_ID, TIMESTAMP, BODY) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": EXPECTED_SIGNATURE,
        "content-type": "application/json",
    }


def test_the_reference_library_accepts_our_headers_and_refuses_any_change() -> None:
    secret = generate_signing_secret()
    headers = build_headers([secret], MSG_ID, int(time.time()), BODY)
    assert standardwebhooks.Webhook(secret).verify(BODY, headers) == {"test": 2432232314}
    for body, changed in (
        (BODY + b" ", headers),
        (BODY, headers | {"webhook-id": "msg_other"}),
        (BODY, headers | {"webhook-timestamp": str(int(time.time()) - 3600)}),
    ):
        with pytest.raises(WebhookVerificationError):
            standardwebhooks.Webhook(secret).verify(body, changed)
    with pytest.raises(WebhookVerificationError):
        standardwebhooks.Webhook(generate_signing_secret()).verify(BODY, headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = generate_signing_secret(), generate_signing_secret()
    headers = build_headers([new, old], MSG_ID, int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert standardwebhooks.Webhook(secret).verify(BODY, headers) == {"test": 2432232314}


def test_signature_header_requires_a_secret() -> None:
    with pytest.raises(ValueError):
        signature_header([], MSG_ID, TIMESTAMP, BODY)


def test_secret_with_or_without_prefix() -> None:
    assert sign(SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, BODY) == EXPECTED_SIGNATURE


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not*base64", ""])
def test_invalid_secret(secret: str) -> None:
    with pytest.raises(ValueError):
        sign(secret, MSG_ID, TIMESTAMP, BODY)


def test_generated_secret() -> None:
    secret = generate_signing_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != generate_signing_secret()
