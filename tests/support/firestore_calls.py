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
