"""Concurrent requests of one instance share batch commits (shared/core/shared_calls.py).

Each caller's writes are one all-or-nothing set, and a batch is atomic, so they still commit together or
not at all; when a shared batch fails (one member's precondition or create() failed), nothing of it was
written and each member commits alone. Two callers that write one document never share a batch: each
write's precondition would be judged on the state before the batch, so both could win. The counters'
group commit (shared/counters/group_commit.py) is
different on purpose: it waits a window to merge increments of one shard; this merges nothing and waits
for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.core.clients import firestore_client
from shared.core.shared_calls import SharedCalls

# Writes per shared batch at most: under the 500 writes a batch may hold.
MAX_SHARED_WRITES = 400


class WriteKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Write:
    kind: WriteKind
    ref: Any
    data: dict[str, Any] = field(default_factory=dict)
    option: Any = None  # a write option (precondition), as `client.write_option` makes it


def _commit_together(write_sets: list[Sequence[Write]]) -> list[list[Any]]:
    """One batch for every set; each set's write results, in order."""
    batch = firestore_client().batch()
    for writes in write_sets:
        for write in writes:
            if write.kind is WriteKind.CREATE:
                batch.create(write.ref, write.data)
            elif write.kind is WriteKind.UPDATE:
                batch.update(write.ref, write.data, option=write.option)
            else:
                batch.delete(write.ref, option=write.option)
    results = list(batch.commit())
    answers: list[list[Any]] = []
    start = 0
    for writes in write_sets:
        answers.append(results[start : start + len(writes)])
        start += len(writes)
    return answers


def _documents(writes: Sequence[Write]) -> frozenset[str]:
    return frozenset(write.ref.path for write in writes)


class SharedCommits(SharedCalls[Sequence[Write], list[Any]]):
    """One process-wide instance (`shared_commits`); `calls` counts batches committed."""

    def __init__(self, max_writes: int = MAX_SHARED_WRITES) -> None:
        super().__init__(_commit_together, len, max_writes, _documents)

    @property
    def commits(self) -> int:
        return self.calls

    def commit(self, writes: Sequence[Write]) -> list[Any]:
        """Commit `writes` as one all-or-nothing set; their write results, in order. Raises what a commit
        of these writes alone raises."""
        return self.call(writes)


_shared_commits = SharedCommits()


def shared_commits() -> SharedCommits:
    return _shared_commits
