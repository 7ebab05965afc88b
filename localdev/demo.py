"""`make demo` (python -m localdev.demo): the five-minute quickstart against a running `make dev`.

Creates a demo user in the Auth emulator (email and password sign-up, as the dashboard does), their account,
a test API key and a webhook endpoint pointing at a receiver this script runs on 127.0.0.1; runs an `echo`
job with the key, waits for it and for its signed `job.completed` event, verifies the signature with the
`standardwebhooks` library, then prints what happened and the curl lines to try next.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from localdev.auth_emulator import configured_port as auth_port
from localdev.dev import PROJECT, emulator_ports

TIMEOUT_S = 60.0


class Receiver:
    """A webhook receiver on a free loopback port: answers 200 and queues what arrives."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        events = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                events.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return  # the demo prints its own summary

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def poll(check: Callable[[], Any], what: str, timeout: float = TIMEOUT_S) -> Any:
    """Poll until `check` returns something truthy (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not done after {timeout:.0f} s; see .platform-logs/")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def call(method: str, url: str, bearer: str, body: Any = None, expect: tuple[int, ...] = (200, 201)) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"}
    response = requests.request(method, url, json=body, headers=headers, timeout=30)
    if response.status_code not in expect:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise SystemExit(f"{method} {url} answered {response.status_code}: {message}")
    return response.json()


def sign_up(auth: str, email: str, password: str) -> tuple[str, str]:
    url = f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local-emulator-key"
    response = requests.post(
        url, json={"email": email, "password": password, "returnSecureToken": True}, timeout=30
    )
    if response.status_code != 200:
        raise SystemExit(
            f"sign-up in the Auth emulator failed ({response.status_code}): {response.text[:200]}"
        )
    data = response.json()
    return str(data["localId"]), str(data["idToken"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The quickstart against a running `make dev`.")
    parser.parse_args(argv)
    ports = emulator_ports()
    api = f"http://127.0.0.1:{ports['functions']}/{PROJECT}/us-central1/api"
    dashboard = f"http://127.0.0.1:{ports['hosting']}/"
    auth = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST") or f"127.0.0.1:{auth_port()}"
    try:
        requests.get(f"{api}/v1/health", timeout=5).raise_for_status()
        requests.get(f"http://{auth}/", timeout=5)
    except requests.RequestException:
        print(
            "The local platform is not running: start `make dev` in another terminal first.", file=sys.stderr
        )
        return 2

    email = f"demo-{secrets.token_hex(3)}@example.com"
    password = secrets.token_urlsafe(9)
    uid, id_token = sign_up(auth, email, password)
    print(f"1. Signed up {email} in the Auth emulator (user id {uid}).")
    call("POST", f"{api}/v1/account", id_token)
    # The founding member number is given by a trigger right after the account is created: wait briefly.
    deadline = time.monotonic() + 15
    account = call("GET", f"{api}/v1/account", id_token)
    while account["founding_member_number"] is None and time.monotonic() < deadline:
        time.sleep(0.3)
        account = call("GET", f"{api}/v1/account", id_token)
    number = account["founding_member_number"]
    member = f"founding member #{number}" if number else "not a founding member (the first 100 are)"
    print(f"2. Account created: {account['credits']} credits, {member}.")

    receiver = Receiver()
    try:
        webhook = call(
            "PUT",
            f"{api}/v1/webhook",
            id_token,
            {"url": receiver.url, "events": ["job.completed", "job.failed"]},
        )
        secret = str(webhook["secret"])
        print(f"3. Webhook endpoint {receiver.url} registered (signing secret {secret[:12]}…).")
        key = call("POST", f"{api}/v1/api_keys", id_token, {"name": "quickstart", "environment": "test"})
        api_key = str(key["key"])
        print(f"4. Test API key created: {api_key} (shown once; test keys run jobs for free).")
        job = call("POST", f"{api}/v1/jobs", api_key, {"type": "echo", "input": {"message": "hello"}})
        print(f"5. Job {job['job_id']} queued.")

        def finished() -> dict[str, Any] | None:
            current: dict[str, Any] = call("GET", f"{api}/v1/jobs/{job['job_id']}", api_key)
            return current if current["status"] in ("completed", "failed") else None

        done = poll(finished, "the echo job")
        print(f"6. Job {done['status']}: result {json.dumps(done['result'])}.")
        headers, body = receiver.events.get(timeout=TIMEOUT_S)
        from standardwebhooks import Webhook

        event = Webhook(secret).verify(body, headers)
        print(
            f"7. Webhook {event['type']} received and its signature verified (webhook-id {headers['webhook-id']})."
        )
    except queue.Empty:
        print("7. No webhook arrived in time: see .platform-logs/functions-host.log", file=sys.stderr)
        return 1
    finally:
        receiver.stop()

    print(
        f"""
Next:
  Dashboard   {dashboard}  sign in as {email} / {password}
              (the demo's receiver has stopped: point the webhook at your own URL on the Webhook page)
  Try:
    curl -s {api}/v1/whoami -H 'Authorization: Bearer {api_key}'
    curl -s {api}/v1/jobs -H 'Authorization: Bearer {api_key}' \\
         -H 'Content-Type: application/json' -d '{{"type": "echo", "input": {{"n": 1}}}}'
    curl -s {api}/v1/jobs -H 'Authorization: Bearer {api_key}'
    curl -s {api}/v1/credit_packages
  Admin:      python -m localdev.make_admin {email}   (then sign in again: the Admin page appears)"""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
