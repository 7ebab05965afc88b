"""The local functions host: one process serving every declared function through functions-framework.

Routes (one WSGI app in front of one functions-framework app per function):
- `/{project}/{region}/{name}/...`: HTTP functions, as the Firebase functions emulator addresses them.
- `/functions/projects/{project}/triggers/{name}`: the Firestore emulator's trigger calls. Its gen2 body is
  the base64 TEXT of the DocumentEventData protobuf and its ce-source repeats `projects/`; both are put
  right here, so the function receives exactly what Eventarc sends in production. As Cloud Functions does,
  the host answers a call only after the function has run: 2xx when it returned, its error status when it
  failed. The emulator never retries a call (a failure is only logged), so the host takes Eventarc's part:
  every call is written to a journal (`TriggerJournal`, one file per call) before the function runs and
  removed once it succeeded; a failed call is retried with back-off (`TriggerRetries`), and a host that was
  killed runs, once started again, every call its predecessor accepted and did not finish. The emulator
  hands its calls over one at a time, so they run one after the other, as its own dispatch allows.
- `/pubsub/{name}/projects/{project}/topics/{topic}`: Pub/Sub push subscriptions, answered after the
  function ran; a failure (or a host that died mid-call) makes the emulator push the message again.
- `/_host/ready`, `/_host/triggers` (calls accepted, running, waiting for a retry), `/_host/triggers/{id}`
  (waits for one event id's calls; tools that deliver events themselves).
Each request runs in the project named by its address (tests isolate themselves by project id).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import heapq
import importlib
import io
import itertools
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
from localdev.fold_soon import LocalFolds
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
REMEMBERED_CALLS = 10_000
TRIGGER_WAIT_S = 60.0
_TRIGGER_CALL_PATH = re.compile(r"^/_host/triggers/(?P<event_id>[^/]+)$")
# Eventarc retries a failed trigger with exponential back-off for up to 24 hours; the local host retries
# sooner and for a shorter while (the first retry after 1 s, then doubling up to 30 s, 12 attempts in all:
# about 4 minutes), then keeps the call in the journal's `failed/` folder and logs it.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
RETRY_ATTEMPTS = 12
# Headers of a trigger call that the function reads (the CloudEvent binary-mode attributes, the body type).
_KEPT_HEADERS = re.compile(r"^(HTTP_CE_[A-Z_]+|CONTENT_TYPE)$")


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
    """Runs trigger calls in the thread that asks (the host answers once the function has run) and
    remembers each event id's answers, so a tool that delivered an event itself can wait for the outcome
    of every call of it, retries included (`wait_for`)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._calls: OrderedDict[str, _CallRecord] = OrderedDict()
        self._pending = 0
        self._accepted = 0
        self._last_accepted_at: float | None = None  # wall clock, for tools comparing with their own
        self._last_finished_at: float | None = None

    def run(self, event_id: str, call: Callable[[], str]) -> str:
        """Run `call` (it returns the function's HTTP status line) and return its status; a call that
        raises is a 500, never lost silently."""
        with self._changed:
            record = self._calls.pop(event_id, None) or _CallRecord()
            record.pending += 1
            self._calls[event_id] = record  # newest last: the oldest are forgotten first
            while len(self._calls) > REMEMBERED_CALLS:
                self._calls.popitem(last=False)
            self._pending += 1
            self._accepted += 1
            self._last_accepted_at = time.time()
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
                finished = self._calls.get(event_id)
                if finished is not None:
                    finished.pending -= 1
                    finished.statuses.append(status)
                self._pending -= 1
                self._last_finished_at = time.time()
                self._changed.notify_all()
        return status

    def wait_for(self, event_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The answers to every call of this event id once none is running (None: unknown id)."""
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


@dataclass(frozen=True)
class TriggerCall:
    """One trigger call as the function receives it (decoded body, CloudEvent headers), and its attempts."""

    function: str
    project: str
    event_id: str
    headers: dict[str, str]  # WSGI environ keys (HTTP_CE_ID, CONTENT_TYPE, ...)
    body: bytes
    attempts: int = 0

    def to_json(self) -> bytes:
        fields = {**self.__dict__, "body": base64.b64encode(self.body).decode()}
        return json.dumps(fields).encode()

    @classmethod
    def from_json(cls, data: bytes) -> TriggerCall:
        fields = json.loads(data)
        return cls(**{**fields, "body": base64.b64decode(fields["body"])})

    def retried(self) -> TriggerCall:
        return TriggerCall(
            self.function, self.project, self.event_id, self.headers, self.body, self.attempts + 1
        )


class TriggerJournal:
    """Trigger calls accepted and not finished: one file each in `directory`, written whole before the
    function runs (a temporary file renamed, so a killed host leaves whole files only) and removed once it
    succeeded. Calls that failed every retry move to `directory/failed`. A process that dies keeps what it
    wrote in the page cache, so no fsync: the journal survives the host, not the machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.failed_directory = directory / "failed"
        self.failed_directory.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count()

    def add(self, call: TriggerCall) -> Path:
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):06d}.json"
        self.write(path, call)
        return path

    def write(self, path: Path, call: TriggerCall) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(call.to_json())
        temporary.replace(path)

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def give_up(self, path: Path) -> None:
        path.replace(self.failed_directory / path.name)

    def unfinished(self) -> list[tuple[Path, TriggerCall]]:
        """The calls a previous host accepted and did not finish, oldest first."""
        for leftover in self.directory.glob("*.tmp"):  # never renamed: its call was never run
            leftover.unlink(missing_ok=True)
        return [
            (path, TriggerCall.from_json(path.read_bytes())) for path in sorted(self.directory.glob("*.json"))
        ]

    def failed(self) -> int:
        return len(list(self.failed_directory.glob("*.json")))


class TriggerRetries:
    """Eventarc's retry of failed trigger calls, for the local host: each journaled call that failed runs
    again after a back-off (RETRY_FIRST_S doubling up to RETRY_MAX_S) until it succeeds or RETRY_ATTEMPTS
    have failed. Retries run on their own threads, in parallel with new calls, as Eventarc's would."""

    def __init__(self, journal: TriggerJournal, execute: Callable[[TriggerCall], str]) -> None:
        self._journal = journal
        self._execute = execute
        self._due: list[tuple[float, int, Path, TriggerCall]] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="trigger-retry")
        threading.Thread(target=self._loop, name="trigger-retries", daemon=True).start()

    def schedule(self, path: Path, call: TriggerCall, delay_s: float | None = None) -> None:
        if delay_s is None:
            delay_s = min(RETRY_FIRST_S * 2**call.attempts, RETRY_MAX_S)  # attempts: retries so far
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + delay_s, next(self._sequence), path, call))
            self._changed.notify_all()

    def waiting(self) -> int:
        with self._changed:
            return len(self._due)

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, path, call = heapq.heappop(self._due)
            self._pool.submit(self._retry, path, call)

    def _retry(self, path: Path, call: TriggerCall) -> None:
        attempt = call.retried()
        self._journal.write(path, attempt)  # the attempt is counted even if this host dies during it
        status = self._execute(attempt)
        if status.startswith("2"):
            self._journal.done(path)
        elif attempt.attempts >= RETRY_ATTEMPTS:
            self._journal.give_up(path)
            print(
                f"trigger call {call.event_id} to {call.function} failed {attempt.attempts + 1} times; "
                f"given up (kept in {self._journal.failed_directory})",
                file=sys.stderr,
                flush=True,
            )
        else:
            self.schedule(path, attempt)


class FunctionsHost:
    def __init__(self, functions: Iterable[tuple[FunctionSpec, Path]], journal_dir: Path) -> None:
        self.specs: dict[str, FunctionSpec] = {}
        self.apps: dict[str, WsgiApp] = {}
        self.triggers = TriggerRunner()
        self.journal = TriggerJournal(journal_dir)
        self.retries = TriggerRetries(self.journal, self._run_trigger)
        self.folds = LocalFolds()  # counters folded soon after the triggers that count (docs/counters.md)
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
            # Trigger calls accepted, still running, waiting for a retry, given up; when the last one came
            # and ended (bench/counters).
            status = {
                **self.triggers.status(),
                "retrying": self.retries.waiting(),
                "failed": self.journal.failed(),
            }
            return _json(start_response, "200 OK", status)
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

    def resume_unfinished(self) -> int:
        """Schedule the calls a previous host accepted and did not finish (it was killed); returns how many."""
        unfinished = self.journal.unfinished()
        for path, call in unfinished:
            self.retries.schedule(path, call, delay_s=0.0)
        return len(unfinished)

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
        if not self._serves(name, FunctionKind.FIRESTORE):
            return _json(start_response, "404 Not Found", {"error": f"no trigger function named {name}"})
        headers = {key: str(value) for key, value in environ.items() if _KEPT_HEADERS.match(key)}
        call = TriggerCall(name, project, environ.get("HTTP_CE_ID", ""), headers, body)
        entry = self.journal.add(call)  # before the function runs: a host killed meanwhile runs it again
        status = self._run_trigger(call)
        if status.startswith("2"):
            self.journal.done(entry)
        else:
            self.retries.schedule(entry, call)
        return _json(start_response, status, {"function": name, "status": status})

    def _run_trigger(self, call: TriggerCall) -> str:
        environ: dict[str, Any] = {
            **call.headers,
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(call.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
            "CONTENT_LENGTH": str(len(call.body)),
        }

        def run() -> str:
            answer: list[str] = []

            def record_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                answer.append(status)

            self._dispatch(call.function, FunctionKind.FIRESTORE, call.project, "/", environ, record_status)
            self.folds.after_trigger(call.project)
            return answer[-1] if answer else "500 no status"

        return self.triggers.run(call.event_id, run)


def build_host(journal_dir: Path) -> FunctionsHost:
    if os.environ.get(rpc_counts.COUNT_SWITCH) == "1":  # bench/cost: count operations at the client
        rpc_counts.install()
    declared = [(spec, MAIN_SOURCE) for spec in FUNCTIONS]
    return FunctionsHost(declared + extra_functions(), journal_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve every declared function locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--journal", type=Path, required=True, help="folder of the trigger calls accepted and not finished"
    )
    args = parser.parse_args()
    host = build_host(args.journal)
    server = make_server(args.host, args.port, host, threaded=True)
    print(
        f"functions host on http://{args.host}:{args.port} serving {', '.join(sorted(host.specs))}",
        flush=True,
    )
    resumed = host.resume_unfinished()  # once the server listens: the calls may call other functions
    if resumed:
        print(f"resuming {resumed} trigger call(s) accepted before a restart", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
