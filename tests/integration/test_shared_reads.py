"""Shared reads on the Firestore emulator: concurrent callers asking for overlapping documents each get their
own snapshots, in their order, missing documents included, and a second tenant's reads are its own."""

from __future__ import annotations

import contextvars
import secrets
from concurrent.futures import ThreadPoolExecutor

from shared.core.clients import firestore_client
from shared.core.shared_reads import SharedReads
from tests.conftest import Project


def test_concurrent_reads_each_get_their_own_documents(project: Project) -> None:
    collection = firestore_client().collection("shared_reads_test")
    names = [f"doc_{secrets.token_hex(4)}" for _ in range(12)]
    for n, name in enumerate(names[:10]):  # the last two never exist
        collection.document(name).set({"n": n})
    reads = SharedReads()
    # Overlapping requests: each asks for three documents, neighbours share two.
    requests = [[collection.document(names[(i + k) % 12]) for k in range(3)] for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(contextvars.copy_context().run, reads.get, refs) for refs in requests]
        answers = [f.result(timeout=30) for f in futures]
    for refs, snapshots in zip(requests, answers, strict=True):
        assert [s.reference.path for s in snapshots] == [r.path for r in refs]
        for ref, snapshot in zip(refs, snapshots, strict=True):
            index = names.index(ref.id)
            if index < 10:
                assert snapshot.exists and snapshot.to_dict() == {"n": index}
            else:
                assert not snapshot.exists
        # One call's snapshots share one read time: a consistent view.
        assert len({s.read_time for s in snapshots}) == 1
    assert reads.calls <= len(requests)


def test_a_request_for_the_same_document_twice_gets_it_twice(project: Project) -> None:
    ref = firestore_client().collection("shared_reads_test").document(f"doc_{secrets.token_hex(4)}")
    ref.set({"n": 1})
    first, second = SharedReads().get([ref, ref])
    assert first.to_dict() == second.to_dict() == {"n": 1}
