"""Record the Firestore calls a block makes, by instrumenting this project's real client for the block's
duration: every response still comes from the emulator, nothing is faked.

The GAPIC client (`client._firestore_api`) is what both `DocumentReference.get` and `Client.get_all` call
(`batch_get_documents`), so every document read of the block is seen, whichever helper made it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.core.clients import firestore_client


@dataclass
class FirestoreCalls:
    """What the block asked Firestore (all threads of this project's client)."""

    reads: list[list[str]] = field(default_factory=list)  # per batch_get call: the document paths
    queries: int = 0
    commits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read_paths(self) -> list[str]:
        """Every document read, as `collection/id`."""
        with self._lock:
            return [path for call in self.reads for path in call]

    def read_calls(self) -> int:
        with self._lock:
            return len(self.reads)

    def read(self, path: str) -> bool:
        return path in self.read_paths()


def _document_path(name: str) -> str:
    return name.split("/documents/", 1)[1] if "/documents/" in name else name


def _field(request: Any, name: str) -> Any:
    if isinstance(request, dict):
        return request.get(name)
    return getattr(request, name, None)


@contextmanager
def recording_calls() -> Iterator[FirestoreCalls]:
    """Count this project's Firestore reads, queries and commits made during the block."""
    api = firestore_client()._firestore_api
    calls = FirestoreCalls()
    names = ("batch_get_documents", "run_query", "commit")
    originals: dict[str, Callable[..., Any]] = {name: getattr(api, name) for name in names}
    own = {name: vars(api)[name] for name in names if name in vars(api)}

    def batch_get_documents(request: Any = None, **kwargs: Any) -> Any:
        paths = [_document_path(str(name)) for name in (_field(request, "documents") or [])]
        with calls._lock:
            calls.reads.append(paths)
        return originals["batch_get_documents"](request=request, **kwargs)

    def run_query(*args: Any, **kwargs: Any) -> Any:
        with calls._lock:
            calls.queries += 1
        return originals["run_query"](*args, **kwargs)

    def commit(*args: Any, **kwargs: Any) -> Any:
        with calls._lock:
            calls.commits += 1
        return originals["commit"](*args, **kwargs)

    # Instance attributes shadow the class's methods for this client only, and only for the block.
    api.batch_get_documents = batch_get_documents
    api.run_query = run_query
    api.commit = commit
    try:
        yield calls
    finally:
        for name in names:
            if name in own:
                setattr(api, name, own[name])
            else:
                delattr(api, name)


@dataclass
class HeldCommit:
    paths: list[str]  # the documents it writes, as `collection/id`
    go: threading.Event = field(default_factory=threading.Event)


@dataclass
class CommitGate:
    """Holds this project's commits that `hold` selects until the test lets each go: a commit in flight
    for as long as a test needs (the server still answers every commit; nothing is faked)."""

    hold: Callable[[list[str]], bool] = lambda paths: True
    held: list[HeldCommit] = field(default_factory=list)  # waiting to be let go, oldest first
    requests: list[list[str]] = field(default_factory=list)  # every commit's documents, in order
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def waiting(self) -> list[HeldCommit]:
        with self._lock:
            return list(self.held)

    def release(self, commit: HeldCommit) -> None:
        with self._lock:
            self.held.remove(commit)
        commit.go.set()

    def release_all(self) -> None:
        for commit in self.waiting():
            self.release(commit)

    def committed(self) -> list[list[str]]:
        with self._lock:
            return [list(paths) for paths in self.requests]


def _write_path(write: Any) -> str:
    from google.cloud.firestore_v1.types import Write

    pb = write if hasattr(write, "WhichOneof") else Write.pb(write)
    operation = pb.WhichOneof("operation")
    if operation == "update":
        return _document_path(pb.update.name)
    if operation == "delete":
        return _document_path(pb.delete)
    return _document_path(pb.transform.document)


# A held commit not let go within this long fails the test (instead of hanging it).
GATE_TIMEOUT_S = 60.0


@contextmanager
def gated_commits() -> Iterator[CommitGate]:
    """Hold this project's commits (those `gate.hold` selects) until the test releases them."""
    api = firestore_client()._firestore_api
    gate = CommitGate()
    own = vars(api).get("commit")
    original: Callable[..., Any] = api.commit

    def commit(request: Any = None, **kwargs: Any) -> Any:
        paths = [_write_path(w) for w in (_field(request, "writes") or [])]
        with gate._lock:
            gate.requests.append(paths)
            held = HeldCommit(paths) if gate.hold(paths) else None
            if held is not None:
                gate.held.append(held)
        if held is not None and not held.go.wait(GATE_TIMEOUT_S):
            raise AssertionError(f"a held commit was never released: {paths}")
        return original(request=request, **kwargs)

    api.commit = commit
    try:
        yield gate
    finally:
        gate.hold = lambda paths: False
        gate.release_all()
        if own is not None:
            api.commit = own
        else:
            del api.commit
