"""Shared commits (shared/core/shared_commits.py) against the real Firestore emulator: concurrent callers of
one process share a batch, each gets its own results or its own error, projects never mix.

Which callers share a batch depends on timing; where a test needs a shared batch for sure, a commit is held
in flight (tests/support/firestore_calls.py, `gated_commits`) until the others are queued behind it."""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from google.api_core.exceptions import AlreadyExists, FailedPrecondition
from google.cloud.firestore_v1 import Increment

from localdev.wiring import clear_firestore
from shared.core.clients import close_project_clients, current_project, firestore_client, project_scope
from shared.core.shared_commits import SharedCommits, Write, WriteKind
from tests.conftest import Project
from tests.support.concurrency import run_concurrently
from tests.support.firestore_calls import CommitGate, gated_commits, recording_calls
from tests.support.waiting import eventually

T = TypeVar("T")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(16) as running:
        yield running


def start(pool: ThreadPoolExecutor, call: Callable[[], T]) -> Future[T]:
    """Run `call` on another thread, in this thread's project."""
    return pool.submit(contextvars.copy_context().run, call)


def outcome(future: Future[Any]) -> Any:
    try:
        return future.result(timeout=60)
    except Exception as exc:
        return exc


def committing(store: SharedCommits, writes: list[Write]) -> Callable[[], list[Any]]:
    return lambda: store.commit(writes)


def queued(store: SharedCommits) -> int:
    """Callers of this project waiting in the store's queue (test-only look at its internals)."""
    queue = store._queue()
    with queue.cond:
        return len(queue.waiting)


def collection(name: str) -> Any:
    return firestore_client().collection(f"{name}_{secrets.token_hex(3)}")


def hold_one_commit(
    pool: ThreadPoolExecutor, store: SharedCommits, gate: CommitGate, blocker: Any
) -> Future[Any]:
    """A caller whose commit (the creation of `blocker`) stays in flight until the gate lets it go: callers
    arriving meanwhile queue up and go together in the next batch."""
    path = blocker.path
    gate.hold = lambda paths: paths == [path]
    future = start(pool, lambda: store.commit([Write(WriteKind.CREATE, blocker, {"blocker": True})]))
    eventually(lambda: len(gate.waiting()) == 1, timeout=10, message="the blocker's commit is in flight")
    return future


# 8 ------------------------------------------------------------------------------------------------------


def test_many_concurrent_callers_share_batches_and_each_gets_its_own_results(project: Project) -> None:
    store = SharedCommits()
    docs = collection("many")
    count = 64

    def member(i: int) -> list[Any]:
        ref = docs.document(f"d{i:02}")
        # Two writes per caller: the second's transform result tells whose results a caller got back.
        return store.commit(
            [
                Write(WriteKind.CREATE, ref, {"i": i}),
                Write(WriteKind.UPDATE, ref, {"total": Increment(i + 1)}),
            ]
        )

    outcomes = run_concurrently(member, count)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert store.shared > 0, (store.commits, store.shared)  # sharing formed
    assert store.commits < count
    snapshots = {s.id: s for s in docs.stream()}
    assert len(snapshots) == count
    for i, results in enumerate(outcomes):
        assert isinstance(results, list) and len(results) == 2
        snapshot = snapshots[f"d{i:02}"]
        assert snapshot.to_dict() == {"i": i, "total": i + 1}
        assert results[0].update_time == results[1].update_time == snapshot.update_time
        assert results[1].transform_results[0].integer_value == i + 1


# 9 ------------------------------------------------------------------------------------------------------


def test_a_failing_member_of_a_shared_batch_gets_its_own_error_and_the_others_commit(
    project: Project, pool: ThreadPoolExecutor
) -> None:
    store = SharedCommits()
    db = firestore_client()
    docs = collection("members")
    existing = docs.document("existing")
    existing.create({"v": 1})
    stale = docs.document("stale")
    stale_read = stale.create({"v": 1}).update_time
    stale.update({"v": 2})  # the read above is out of date now
    fresh = docs.document("fresh")
    fresh_read = fresh.create({"v": 1}).update_time
    doomed = docs.document("doomed")
    doomed_read = doomed.create({"v": 1}).update_time
    members: dict[str, list[Write]] = {
        "exists": [Write(WriteKind.CREATE, existing, {"v": 9})],
        "new": [
            Write(WriteKind.CREATE, docs.document("new1"), {"v": 1}),
            Write(WriteKind.CREATE, docs.document("new2"), {"v": 2}),
        ],
        "stale": [Write(WriteKind.UPDATE, stale, {"v": 9}, db.write_option(last_update_time=stale_read))],
        "fresh": [Write(WriteKind.UPDATE, fresh, {"v": 2}, db.write_option(last_update_time=fresh_read))],
        "delete": [Write(WriteKind.DELETE, doomed, option=db.write_option(last_update_time=doomed_read))],
    }

    with gated_commits() as gate:
        blocker = hold_one_commit(pool, store, gate, docs.document("blocker"))
        futures = {name: start(pool, committing(store, writes)) for name, writes in members.items()}
        eventually(lambda: queued(store) == len(members), timeout=10, message="every member queued")
        gate.release_all()
        results = {name: outcome(future) for name, future in futures.items()}
        assert not isinstance(outcome(blocker), Exception)
        requests = gate.committed()

    # They were tried together (one batch, all members' writes), which failed as a whole...
    every_path = sorted(w.ref.path for writes in members.values() for w in writes)
    assert every_path in [sorted(paths) for paths in requests], requests
    assert store.shared == 0  # no shared batch committed
    # ... and each member then committed alone and got its own answer.
    assert isinstance(results["exists"], AlreadyExists), results
    assert isinstance(results["stale"], FailedPrecondition), results
    assert [len(results[name]) for name in ("new", "fresh", "delete")] == [2, 1, 1], results
    assert docs.document("new1").get().get("v") == 1 and docs.document("new2").get().get("v") == 2
    assert fresh.get().get("v") == 2
    assert not doomed.get().exists
    assert existing.get().get("v") == 1 and stale.get().get("v") == 2


def test_two_members_conditioned_on_the_same_read_of_one_document_do_not_both_win(
    project: Project, pool: ThreadPoolExecutor
) -> None:
    store = SharedCommits()
    db = firestore_client()
    docs = collection("contested")
    contested = docs.document("slot")
    read_at = contested.create({"holder": None}).update_time
    option = db.write_option(last_update_time=read_at)

    with gated_commits() as gate:
        blocker = hold_one_commit(pool, store, gate, docs.document("blocker"))
        futures = [
            start(pool, committing(store, [Write(WriteKind.UPDATE, contested, {"holder": holder}, option)]))
            for holder in ("a", "b")
        ]
        eventually(lambda: queued(store) == 2, timeout=10, message="both members queued")
        gate.release_all()
        results = [outcome(future) for future in futures]
        outcome(blocker)

    # Committed one after the other, exactly one of two writes conditioned on the same read succeeds.
    assert len([r for r in results if isinstance(r, FailedPrecondition)]) == 1, (results, store.shared)


# 10 -----------------------------------------------------------------------------------------------------


def test_a_lone_caller_commits_at_once(project: Project) -> None:
    store = SharedCommits()
    docs = collection("lone")
    with recording_calls() as calls:
        [result] = store.commit([Write(WriteKind.CREATE, docs.document("a"), {"v": 1})])
    assert (store.commits, store.shared, calls.commits) == (1, 0, 1)
    assert result.update_time == docs.document("a").get().update_time
    with recording_calls() as calls:
        results = store.commit(
            [
                Write(WriteKind.UPDATE, docs.document("a"), {"v": 2}),
                Write(WriteKind.CREATE, docs.document("b"), {"v": 1}),
            ]
        )
    assert (store.commits, store.shared, calls.commits, len(results)) == (2, 0, 1, 2)
    # Its own error, as a commit alone raises it.
    with pytest.raises(AlreadyExists):
        store.commit([Write(WriteKind.CREATE, docs.document("b"), {"v": 2})])
    assert (store.commits, store.shared) == (3, 0)
    assert docs.document("b").get().get("v") == 1


# 11 -----------------------------------------------------------------------------------------------------


@pytest.fixture
def second_project(project: Project) -> Iterator[str]:
    """Another project on the same emulator (only Firestore is used: nothing to wire)."""
    other = f"demo-t{secrets.token_hex(6)}"
    yield other
    clear_firestore(project.stack.firestore_host, other)
    close_project_clients(other)


def test_two_projects_never_share_a_batch(
    project: Project, second_project: str, pool: ThreadPoolExecutor
) -> None:
    store = SharedCommits()
    name = f"projects_{secrets.token_hex(3)}"
    docs = firestore_client().collection(name)

    def write_in(project_id: str, doc: str) -> Callable[[], list[Any]]:
        def call() -> list[Any]:
            with project_scope(project_id):
                ref = firestore_client().collection(name).document(doc)
                return store.commit([Write(WriteKind.CREATE, ref, {"project": current_project()})])

        return call

    with gated_commits() as gate:
        blocker = hold_one_commit(pool, store, gate, docs.document("blocker"))
        # This project's queue is busy; the other project's caller commits at once, on its own.
        with project_scope(second_project), gated_commits() as other_gate:
            other_gate.hold = lambda paths: False
            elsewhere = start(pool, write_in(second_project, "elsewhere"))
            assert not isinstance(outcome(elsewhere), Exception)
            other_requests = other_gate.committed()
        waiting = start(pool, write_in(project.id, "here"))
        eventually(lambda: queued(store) == 1, timeout=10, message="this project's caller queued")
        assert not blocker.done()
        gate.release_all()
        assert not isinstance(outcome(waiting), Exception)
        assert not isinstance(outcome(blocker), Exception)
        requests = gate.committed()

    assert other_requests == [[f"{name}/elsewhere"]]
    assert sorted(requests) == [[f"{name}/blocker"], [f"{name}/here"]]
    assert store.shared == 0
    assert docs.document("here").get().get("project") == project.id
    assert not docs.document("elsewhere").get().exists
    with project_scope(second_project):
        there = firestore_client().collection(name).document("elsewhere").get()
        assert there.get("project") == second_project
