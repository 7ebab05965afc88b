"""SSRF protection at send time. Only loopback is ever connected to: other addresses come from a fake
resolver and must be refused before any connection is attempted."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from shared.models import utc_now
from shared.outbound.sender import SendPolicy, guarded_post
from shared.outbound.ssrf import AddrInfo, resolve_and_check
from shared.webhooks.decisions import Outcome
from shared.webhooks.delivery import deliver_event
from tests.conftest import Project
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import STRICT_POLICY, make_event, setup_endpoint, stored_deliveries

LOCAL_DEV_POLICY = SendPolicy(timeout_s=5.0, allow_loopback=True, require_https=False)


def fake_dns(*addresses: str) -> object:
    """A resolver answering every name with these addresses (nothing is looked up, nothing connected)."""

    def getaddrinfo(host: str, port: int, family: int = 0, kind: int = 0) -> Sequence[AddrInfo]:
        answers: list[AddrInfo] = []
        for address in addresses:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    def resolver(host: str, port: int, allow_loopback: bool) -> list[tuple[int, tuple[object, ...]]]:
        return resolve_and_check(host, port, allow_loopback, resolver=getaddrinfo)

    return resolver


def send(url: str, policy: SendPolicy, resolver: object = resolve_and_check) -> tuple[int | None, str]:
    result = guarded_post(url, b"{}", {"webhook-id": "evt_x"}, policy, utc_now(), resolver)  # type: ignore[arg-type]
    return result.status_code, result.error or ""


def test_loopback_targets_are_refused_unless_local_development_allows_them(receiver: WebhookReceiver) -> None:
    port = receiver.port
    for url in (
        f"http://127.0.0.1:{port}/hook",
        f"http://localhost:{port}/hook",
        f"http://[::ffff:127.0.0.1]:{port}/hook",
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",
        f"http://0x7f.0.0.1:{port}/hook",
    ):
        status, error = send(url, STRICT_POLICY)
        assert status is None and error.startswith(("refused", "invalid URL")), (url, error)
    assert receiver.received() == []
    assert send(f"http://127.0.0.1:{port}/hook", LOCAL_DEV_POLICY)[0] == 200
    assert len(receiver.received()) == 1


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("169.254.169.254",),
        ("100.64.1.1",),
        ("192.168.1.1",),
        ("224.0.0.1",),
        ("fd00::1",),
        ("fe80::1",),
        ("::ffff:10.0.0.1",),
        ("93.184.216.34", "10.0.0.1"),  # one bad answer among good ones refuses the name
    ],
)
def test_names_resolving_to_internal_addresses_are_refused_before_connecting(
    addresses: tuple[str, ...],
) -> None:
    status, error = send("http://hooks.example.com/hook", LOCAL_DEV_POLICY, fake_dns(*addresses))
    assert status is None and error.startswith("refused"), error
    # The customer learns the target is refused, never which internal address the name resolved to.
    assert not any(address in error for address in addresses), error
    assert "not publicly routable" in error


def test_connection_goes_to_the_checked_address_and_keeps_the_host_name(receiver: WebhookReceiver) -> None:
    # The name "resolves" to loopback (allowed here): the request must reach exactly that address, with
    # the URL's host in the Host header (DNS is never consulted a second time).
    url = f"http://hooks.example.com:{receiver.port}/hook?x=1"
    assert send(url, LOCAL_DEV_POLICY, fake_dns("127.0.0.1"))[0] == 200
    [request] = receiver.received()
    assert request.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert request.path == "/hook?x=1"


def test_production_requires_https_and_refuses_credentials(receiver: WebhookReceiver) -> None:
    production = SendPolicy(timeout_s=5.0, allow_loopback=False, require_https=True)
    assert send(receiver.url(), production)[1] == "invalid URL: URL must use https"
    status, error = send(f"http://user:pw@127.0.0.1:{receiver.port}/", LOCAL_DEV_POLICY)
    assert status is None and "credentials" in error
    assert receiver.received() == []


def test_a_refused_target_is_a_recorded_failed_attempt(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint("user_ssrf", receiver.url())
    event_id = make_event("user_ssrf")
    report = deliver_event(event_id, STRICT_POLICY)
    assert report is not None and report.outcome is Outcome.RETRY
    [delivery] = stored_deliveries(event_id)
    assert delivery.status_code is None and delivery.error is not None
    assert delivery.error.startswith("refused") and delivery.next_attempt_at is not None
    assert receiver.received() == []
