"""bench/cost's counting rules (localdev/rpc_counts.py): what Firestore bills, per RPC."""

from __future__ import annotations

from google.cloud.firestore_v1.types import Document, Write

from localdev import rpc_counts


def test_a_commit_counts_its_writes_and_deletes_apart() -> None:
    rpc_counts.reset()
    writes = [
        Write(update=Document(name="projects/p/databases/(default)/documents/a/1")),
        Write(update=Document(name="projects/p/databases/(default)/documents/a/2")),
        Write(delete="projects/p/databases/(default)/documents/a/3"),
    ]
    rpc_counts._count_commit({"writes": writes})
    counts = rpc_counts.snapshot()
    assert counts["firestore_writes"] == 2 and counts["firestore_deletes"] == 1
    assert counts["firestore_commits"] == 1


def test_a_query_that_finds_nothing_still_costs_one_read() -> None:
    rpc_counts.reset()
    assert list(rpc_counts._counted_stream([], lambda _: True)) == []
    assert rpc_counts.snapshot()["firestore_reads"] == 1
    rpc_counts.reset()
    assert len(list(rpc_counts._counted_stream([1, 2, 3], lambda r: r != 2))) == 3
    assert rpc_counts.snapshot()["firestore_reads"] == 2


def test_counts_break_down_by_function() -> None:
    rpc_counts.reset()
    token = rpc_counts.current_function.set("api")
    try:
        rpc_counts.add(firestore_reads=2)
    finally:
        rpc_counts.current_function.reset(token)
    counts = rpc_counts.snapshot()
    assert counts["firestore_reads"] == 2 and counts["api:firestore_reads"] == 2
    rpc_counts.reset()


def test_a_commit_that_writes_a_balance_document_is_told_apart() -> None:
    root = "projects/p/databases/(default)/documents/"
    assert rpc_counts._writes_users({"writes": [Write(update=Document(name=root + "users/u1"))]})
    assert not rpc_counts._writes_users({"writes": [Write(update=Document(name=root + "jobs/j1"))]})
    assert rpc_counts._writes_users({"writes": [Write(delete=root + "users/u2")]})
