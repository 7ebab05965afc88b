"""The local functions host: one process serving every declared function through functions-framework.

Routes (one WSGI app in front of one functions-framework app per function):
- `/{project}/{region}/{name}/...`: HTTP functions, as the Firebase functions emulator addresses them.
- `/functions/projects/{project}/triggers/{name}`: the Firestore emulator's trigger calls. Its gen2 body is
  the base64 TEXT of the DocumentEventData protobuf and its ce-source repeats `projects/`; both are put
  right here, so the function receives exactly what Eventarc sends in production. The emulator sends its
  trigger calls one at a time, each waiting for the last one's answer, and never retries one (a failure is
  only logged); production delivers them in parallel, out of order. So the host answers 202 as soon as the
  event is decoded and runs the function on a pool of trigger workers (`TriggerRunner`): what the
  functions see is production's concurrency, and nothing is lost that the emulator would have kept (it
  keeps nothing). The runner's bound holds the emulator back when the workers fall behind.
- `/pubsub/{name}/projects/{project}/topics/{topic}`: Pub/Sub push subscriptions. The prefix picks the
  function; the rest is the path functions-framework reads the topic from.
Each request runs in the project named by its address (tests isolate themselves by project id).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import importlib
import io
import json
import os
import re
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions_framework import create_app
from werkzeug.serving import make_server

from localdev import rpc_counts
from shared.core.clients import project_scope
from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
MAIN_SOURCE = REPO_ROOT / "functions" / "main.py"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_HTTP_PATH = re.compile(
    r"^/(?P<project>[a-z0-9-]+)/(?P<region>[a-z0-9-]+)/(?P<name>[A-Za-z0-9_-]+)(?P<rest>/.*)?$",
    re.DOTALL,  # the rest of the path is the function's, newlines (%0A) included
)
_TRIGGER_PATH = re.compile(r"^/functions/projects/(?P<project>[^/]+)/triggers/(?P<name>[^/]+)$")
_PUSH_PATH = re.compile(r"^/pubsub/(?P<name>[^/]+)(?P<rest>/projects/(?P<project>[^/]+)/topics/[^/]+)$")
_SOURCE_FIX = re.compile(r"/projects/projects/")
# Trigger calls run in parallel, as Eventarc delivers them; at most this many wait for a worker before the
# emulator's next call is held (backpressure instead of unbounded memory).
TRIGGER_WORKERS = 16
TRIGGER_BACKLOG = 256
REMEMBERED_CALLS = 10_000
TRIGGER_WAIT_S = 60.0
_TRIGGER_CALL_PATH = re.compile(r"^/_host/triggers/(?P<event_id>[^/]+)$")


def extra_functions() -> list[tuple[FunctionSpec, Path]]:
    """Functions added for tests: PLATFORM_EXTRA_FUNCTIONS names a module with FUNCTIONS and its file."""
    module_name = os.environ.get("PLATFORM_EXTRA_FUNCTIONS")
    if not module_name:
        return []
    module = importlib.import_module(module_name)
    return [(spec, Path(str(module.__file__))) for spec in module.FUNCTIONS]


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


@dataclass
class _CallRecord:
    pending: int = 0
    statuses: list[str] = field(default_factory=list)


class TriggerRunner:
    """Runs trigger calls on a bounded pool of workers and remembers each event id's answers, so a tool
    that delivered an event itself can wait for its outcome (`wait_for`)."""

    def __init__(self, workers: int = TRIGGER_WORKERS, backlog: int = TRIGGER_BACKLOG) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trigger")
        self._room = threading.BoundedSemaphore(workers + backlog)
        self._changed = threading.Condition()
        self._calls: OrderedDict[str, _CallRecord] = OrderedDict()
        self._pending = 0
        self._accepted = 0
        self._last_accepted_at: float | None = None  # wall clock, for tools comparing with their own
        self._last_finished_at: float | None = None

    def submit(self, event_id: str, call: Callable[[], str]) -> None:
        """Queue `call` (it returns the function's HTTP status line); blocks while the backlog is full."""
        self._room.acquire()
        with self._changed:
            record = self._calls.pop(event_id, None) or _CallRecord()
            record.pending += 1
            self._calls[event_id] = record  # newest last: the oldest are forgotten first
            while len(self._calls) > REMEMBERED_CALLS:
                self._calls.popitem(last=False)
            self._pending += 1
            self._accepted += 1
            self._last_accepted_at = time.time()
        self._pool.submit(self._run, event_id, call)

    def _run(self, event_id: str, call: Callable[[], str]) -> None:
        status = "500 the host failed to run the function"
        try:
            status = call()
            if not status.startswith("2"):
                # functions-framework has logged the function's own error; say which call it was.
                print(f"trigger call {event_id} answered {status}", file=sys.stderr, flush=True)
        except Exception:
            traceback.print_exc()
        finally:
            with self._changed:
                record = self._calls.get(event_id)
                if record is not None:
                    record.pending -= 1
                    record.statuses.append(status)
                self._pending -= 1
                self._last_finished_at = time.time()
                self._changed.notify_all()
            self._room.release()

    def wait_for(self, event_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The answers to every call of this event id once none is pending (None: unknown id)."""
        with self._changed:
            self._changed.wait_for(
                lambda: event_id not in self._calls or self._calls[event_id].pending == 0, timeout_s
            )
            record = self._calls.get(event_id)
            if record is None:
                return None
            return {"pending": record.pending, "statuses": list(record.statuses)}

    def status(self) -> dict[str, Any]:
        with self._changed:
            return {
                "pending": self._pending,
                "accepted": self._accepted,
                "last_accepted_at": self._last_accepted_at,
                "last_finished_at": self._last_finished_at,
            }


class FunctionsHost:
    def __init__(self, functions: Iterable[tuple[FunctionSpec, Path]]) -> None:
        self.specs: dict[str, FunctionSpec] = {}
        self.apps: dict[str, WsgiApp] = {}
        self.triggers = TriggerRunner()
        for spec, source in functions:
            self.specs[spec.name] = spec
            self.apps[spec.name] = create_app(spec.entry_point, str(source), spec.signature_type)
        # create_app records its target in FUNCTION_TARGET, the deployed runtime's marker, which settings
        # read as "this is production": this host is not, and serves many functions.
        os.environ.pop("FUNCTION_TARGET", None)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/_host/ready":
            return _json(start_response, "200 OK", {"functions": sorted(self.specs)})
        if path == "/_host/triggers":
            # Trigger calls accepted, still pending, and when the last one came and ended (bench/counters).
            return _json(start_response, "200 OK", self.triggers.status())
        if match := _TRIGGER_CALL_PATH.match(path):
            # Blocks until no call of this event id is pending (tests that deliver events themselves).
            outcome = self.triggers.wait_for(match["event_id"], TRIGGER_WAIT_S)
            if outcome is None:
                return _json(start_response, "404 Not Found", {"error": "no call with this event id"})
            return _json(start_response, "200 OK", outcome)
        if path == "/_host/counts" and os.environ.get(rpc_counts.COUNT_SWITCH) == "1":
            if environ.get("REQUEST_METHOD") == "POST":
                rpc_counts.reset()
            return _json(start_response, "200 OK", rpc_counts.snapshot())
        if match := _TRIGGER_PATH.match(path):
            return self._firestore_trigger(match, environ, start_response)
        if match := _PUSH_PATH.match(path):
            return self._dispatch(
                match["name"], FunctionKind.PUBSUB, match["project"], match["rest"], environ, start_response
            )
        if match := _HTTP_PATH.match(path):
            prefix = path[: len(path) - len(match["rest"] or "")]
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            return self._dispatch(
                match["name"],
                FunctionKind.HTTP,
                match["project"],
                match["rest"] or "/",
                environ,
                start_response,
            )
        return _json(start_response, "404 Not Found", {"error": f"no function serves {path}"})

    def _serves(self, name: str, kind: FunctionKind) -> bool:
        spec = self.specs.get(name)
        return spec is not None and spec.kind is kind

    def _dispatch(
        self,
        name: str,
        kind: FunctionKind,
        project: str,
        path: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        if not self._serves(name, kind):
            return _json(start_response, "404 Not Found", {"error": f"no {kind} function named {name}"})
        environ["PATH_INFO"] = path
        token = rpc_counts.current_function.set(name)
        rpc_counts.add(**{"invocations": 1, f"invocations:{name}": 1})
        try:
            with project_scope(project):
                # Materialise the body inside the scope: the function runs while the app is iterated.
                return list(self.apps[name](environ, start_response))
        finally:
            rpc_counts.current_function.reset(token)

    def _firestore_trigger(
        self, match: re.Match[str], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type.startswith("application/protobuf"):
            try:
                body = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                pass  # already raw bytes, as production sends them
        if "HTTP_CE_SOURCE" in environ:
            environ["HTTP_CE_SOURCE"] = _SOURCE_FIX.sub("/projects/", environ["HTTP_CE_SOURCE"])
        name, project = match["name"], match["project"]
        if not self._serves(name, FunctionKind.FIRESTORE):  # answered now: the call runs after the answer
            return _json(start_response, "404 Not Found", {"error": f"no trigger function named {name}"})
        # The request's environ belongs to this request's thread: the worker gets its own copy.
        call_environ = dict(environ)
        call_environ["wsgi.input"] = io.BytesIO(body)
        call_environ["CONTENT_LENGTH"] = str(len(body))

        def call() -> str:
            answer: list[str] = []

            def record_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                answer.append(status)

            self._dispatch(name, FunctionKind.FIRESTORE, project, "/", call_environ, record_status)
            return answer[-1] if answer else "500 no status"

        self.triggers.submit(environ.get("HTTP_CE_ID", ""), call)
        return _json(start_response, "202 Accepted", {"accepted": name})


def build_host() -> FunctionsHost:
    if os.environ.get(rpc_counts.COUNT_SWITCH) == "1":  # bench/cost: count operations at the client
        rpc_counts.install()
    declared = [(spec, MAIN_SOURCE) for spec in FUNCTIONS]
    return FunctionsHost(declared + extra_functions())


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve every declared function locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args()
    host = build_host()
    server = make_server(args.host, args.port, host, threaded=True)
    print(
        f"functions host on http://{args.host}:{args.port} serving {', '.join(sorted(host.specs))}",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
