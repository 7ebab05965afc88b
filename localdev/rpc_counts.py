"""Counting Firestore and Pub/Sub operations at the client, for bench/cost (never in production paths).

`install()` wraps the Firestore GAPIC client's RPC methods and the Pub/Sub publisher once per process, and
counts what Firestore bills: a read per document returned (a query that returns nothing still costs one
read), a write per Write in a commit, a delete per delete Write. The local functions host installs it when
PLATFORM_COUNT_RPCS=1 (localdev/host.py) and serves the counts at `/_host/counts` (GET; POST resets).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

COUNT_SWITCH = "PLATFORM_COUNT_RPCS"

_lock = threading.Lock()
_counts: Counter[str] = Counter()
# Per document (bench/balance): writes per (collection/id, unix second), and creates of per-user documents
# per (collection, user_id, user_range, second): the hot document and the hot index range.
_document_seconds: Counter[tuple[str, int]] = Counter()
_range_seconds: Counter[tuple[str, str, int, int]] = Counter()
_installed: list[bool] = []
# The function being served (set by the host per request), so counts also break down by function.
current_function: ContextVar[str | None] = ContextVar("current_function", default=None)


def add(**amounts: int) -> None:
    # Outside a function (a background thread of the host): name the thread instead.
    function = current_function.get() or f"thread {threading.current_thread().name.split(' ')[0]}"
    with _lock:
        _counts.update(amounts)
        _counts.update({f"{function}:{name}": amount for name, amount in amounts.items()})


def snapshot() -> dict[str, int]:
    """The counts, and per collection: `max_doc_writes_per_s:{collection}` (the most writes one document
    took in one second), `max_range_writes_per_s:{collection}` (the most creates one user's index range
    took in one second) and `doc_writes:users/{uid}` (every write to each balance document)."""
    with _lock:
        counts = dict(_counts)
        for (document, _second), writes in _document_seconds.items():
            collection = document.split("/", 1)[0]
            key = f"max_doc_writes_per_s:{collection}"
            counts[key] = max(counts.get(key, 0), writes)
        for (collection, _user, _range, _second), writes in _range_seconds.items():
            key = f"max_range_writes_per_s:{collection}"
            counts[key] = max(counts.get(key, 0), writes)
        for (document, _second), writes in _document_seconds.items():
            if document.startswith("users/"):
                counts[f"doc_writes:{document}"] = counts.get(f"doc_writes:{document}", 0) + writes
        return counts


def reset() -> None:
    with _lock:
        _counts.clear()
        _document_seconds.clear()
        _range_seconds.clear()


def _request_field(request: Any, name: str) -> Any:
    if isinstance(request, dict):
        return request.get(name)
    return getattr(request, name, None)


def _count_commit(request: Any) -> None:
    from google.cloud.firestore_v1.types import Write

    writes = list(_request_field(request, "writes") or [])
    deletes = sum(1 for w in writes if Write.pb(w).WhichOneof("operation") == "delete")
    second = int(time.time())
    with _lock:
        for write in writes:
            pb = Write.pb(write)
            operation = pb.WhichOneof("operation")
            if operation not in ("update", "delete"):
                continue
            name = pb.update.name if operation == "update" else pb.delete
            document = name.split("/documents/", 1)[-1]
            _document_seconds[(document, second)] += 1
            fields = pb.update.fields if operation == "update" else {}
            if "user_range" in fields and "user_id" in fields and pb.HasField("current_document"):
                collection = document.split("/", 1)[0]
                user = fields["user_id"].string_value
                _range_seconds[(collection, user, fields["user_range"].integer_value, second)] += 1
    # Writes per collection too (`writes_to_users`: the balance documents), for what a debit writes.
    by_collection: Counter[str] = Counter()
    for write in writes:
        pb = Write.pb(write)
        name = pb.update.name if pb.WhichOneof("operation") == "update" else ""
        if "/documents/" in name:
            by_collection["writes_to_" + name.split("/documents/", 1)[1].split("/", 1)[0]] += 1
    add(
        firestore_rpcs=1,
        firestore_commits=1,
        firestore_writes=len(writes) - deletes,
        firestore_deletes=deletes,
        **by_collection,
    )


def _counted_stream(responses: Iterable[Any], is_document: Callable[[Any], bool]) -> Iterator[Any]:
    documents = 0
    try:
        for response in responses:
            if is_document(response):
                documents += 1
            yield response
    finally:
        add(firestore_reads=max(documents, 1))  # a query or lookup that finds nothing still costs one read


def _wrap(cls: Any, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    setattr(cls, name, wrapper(getattr(cls, name)))


def install() -> None:
    """Idempotent; call before the first client is used."""
    with _lock:
        if _installed:
            return
        _installed.append(True)
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]
    from google.cloud.firestore_v1.services.firestore.client import FirestoreClient

    def commit(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, request: Any = None, **kwargs: Any) -> Any:
            from google.api_core.exceptions import Aborted, FailedPrecondition

            _count_commit(request)
            try:
                return original(self, request=request, **kwargs)
            except (FailedPrecondition, Aborted):
                add(firestore_lost_races=1)  # a precondition lost to another writer: read again
                raise

        return counted

    def batch_get(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(firestore_rpcs=1)
            # Found and missing documents are each billed as a read.
            return _counted_stream(original(self, *args, **kwargs), lambda r: bool(r.found or r.missing))

        return counted

    def run_query(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(firestore_rpcs=1, firestore_queries=1)
            return _counted_stream(original(self, *args, **kwargs), lambda r: bool(r.document))

        return counted

    def aggregation(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(firestore_rpcs=1, firestore_reads=1)  # one read per 1,000 index entries counted; we count 1
            return original(self, *args, **kwargs)

        return counted

    def plain(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(firestore_rpcs=1)
            return original(self, *args, **kwargs)

        return counted

    def publish(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(pubsub_publishes=1)
            return original(self, *args, **kwargs)

        return counted

    _wrap(FirestoreClient, "commit", commit)
    _wrap(FirestoreClient, "batch_get_documents", batch_get)
    _wrap(FirestoreClient, "run_query", run_query)
    _wrap(FirestoreClient, "run_aggregation_query", aggregation)
    for name in ("begin_transaction", "rollback", "batch_write", "get_document", "list_documents"):
        _wrap(FirestoreClient, name, plain)
    _wrap(pubsub_v1.PublisherClient, "publish", publish)
