"""Concurrent requests of one instance share document reads (shared/core/shared_calls.py): the documents
several callers ask for at about the same time are read in one call, each caller getting its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.core.clients import firestore_client
from shared.core.shared_calls import SharedCalls

# Documents per shared read at most.
MAX_SHARED_DOCUMENTS = 100


def _read_together(requests: list[Sequence[Any]]) -> list[list[Any]]:
    """One read for every requested document (each once); each request's snapshots, in its order."""
    unique = {ref.path: ref for refs in requests for ref in refs}
    found = {s.reference.path: s for s in firestore_client().get_all(list(unique.values()))}
    return [[found[ref.path] for ref in refs] for refs in requests]


class SharedReads(SharedCalls[Sequence[Any], list[Any]]):
    """One process-wide instance (`shared_reads`); `calls` counts reads made."""

    def __init__(self, max_documents: int = MAX_SHARED_DOCUMENTS) -> None:
        super().__init__(_read_together, len, max_documents)

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Snapshots of `refs` (missing documents too), in order, as read in one consistent call."""
        return self.call(refs)


_shared_reads = SharedReads()


def shared_reads() -> SharedReads:
    return _shared_reads
