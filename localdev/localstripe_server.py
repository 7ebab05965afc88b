"""localstripe, keeping its data across a restart in a file of its own (LOCALSTRIPE_DATA_FILE).

localstripe pickles its whole store after every change, always to the same file in /tmp, whichever
localstripe writes it: two stacks on one machine would overwrite each other's. Here each stack names its own
file, written whole to a temporary file and renamed over the old one (a process killed mid-write leaves
the previous copy, never half a file), and the webhook registrations, which localstripe keeps only in
memory, are kept beside it. A localstripe started again by the supervisor (localdev/supervisor.py) thus
still knows every customer, card and payment, and still sends its events where they went before. A stack
removes the file before its first start, so every stack starts from an empty Stripe.

Usage: LOCALSTRIPE_DATA_FILE=PATH python -m localdev.localstripe_server --port N
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

DATA_FILE_VARIABLE = "LOCALSTRIPE_DATA_FILE"


def webhooks_file(data_file: Path) -> Path:
    return data_file.with_name(data_file.name + ".webhooks.json")


def _replace(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def main() -> None:
    from localstripe import resources, server, webhooks

    data_file = Path(os.environ[DATA_FILE_VARIABLE])
    hooks_file = webhooks_file(data_file)

    def load(store: Any) -> None:
        if data_file.exists():
            store.clear()
            store.update(pickle.loads(data_file.read_bytes()))  # noqa: S301 (our own file, our own data)

    def dump(store: Any) -> None:
        _replace(data_file, pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))

    original_register = webhooks.register_webhook

    def register(id: str, url: str, secret: str, events: Any) -> None:
        original_register(id, url, secret, events)
        saved = {
            name: {"url": hook.url, "secret": hook.secret, "events": hook.events}
            for name, hook in webhooks._webhooks.items()
        }
        _replace(hooks_file, json.dumps(saved).encode())

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    webhooks.register_webhook = register
    server.register_webhook = register  # the server module imported the name itself
    if hooks_file.exists():
        for name, hook in json.loads(hooks_file.read_text()).items():
            original_register(name, hook["url"], hook["secret"], hook["events"])
    _serve_on_loopback(server)


def _serve_on_loopback(server: Any) -> None:
    """localstripe's own start(), bound to 127.0.0.1 (it binds every interface, `::`): a local stand-in
    for Stripe listens on loopback only."""
    import argparse
    import logging
    import socket

    from aiohttp import web

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    server.store.try_load_from_disk()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler())
    web.run_app(server.app, sock=sock, access_log=logger)


if __name__ == "__main__":
    main()
