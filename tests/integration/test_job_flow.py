"""Jobs under load (docs/workers.md, "Flow control"), end to end with local worker processes: a type's
max_concurrency held under a burst handed in by several dispatcher processes at once, a worker's 429/503
not counted and its Retry-After waited, fair turns between two customers, a type deleted while its jobs
wait, and a sweep facing 600 unreadable due documents. A second customer is present throughout and the
ledger sums to the balance after each test."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from shared.core.clients import firestore_client
from shared.jobs import flow
from shared.jobs.service import job_ref
from shared.jobs.sweep import sweep_jobs
from shared.models import Job, JobStatus, utc_now
from tests.conftest import Project
from tests.support.job_workers import (
    account_with_credits,
    admin_token,
    answer,
    assert_ledger_sums_to_balance,
    dispatch_of,
    dispatcher_process,
    put_job_type,
    refuse,
)
from tests.support.jobs import balance, post_job, stored_jobs
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver


def tenants(credits: int) -> tuple[str, str]:
    account_with_credits("alice", credits)
    account_with_credits("bob", credits)
    return create_api_key("alice", "live")[1], create_api_key("bob", "live")[1]


def post_many(api: ApiClient, key: str, job_type: str, count: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda i: post_job(api, key, {"type": job_type, "input": {"i": i}}), range(count))
        )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    return [r.json()["job_id"] for r in responses]


def all_ended(user_id: str, job_ids: list[str], sweep: bool = False) -> dict[str, Job] | None:
    if sweep:
        sweep_jobs()
    jobs = stored_jobs(user_id)
    ended = {j: jobs[j] for j in job_ids if jobs[j].status in (JobStatus.COMPLETED, JobStatus.FAILED)}
    return ended if len(ended) == len(job_ids) else None


def _queued_after(job_id: str, attempts: int) -> Job | None:
    """alice's job once an attempt answered and it is queued again with `attempts` counted (a "not now"
    counts none, and leaves its error)."""
    job = stored_jobs("alice")[job_id]
    answered = attempts > 0 or job.error is not None
    return job if job.status is JobStatus.QUEUED and job.attempts == attempts and answered else None


def test_max_concurrency_holds_under_a_burst_from_several_instances(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(100)
    receiver.default = answer({"done": True}, delay_s=0.4)
    put_job_type(api, "narrow", receiver.url(), pricing={"credits": 1}, max_concurrency=2)
    jobs = {"alice": post_many(api, alice, "narrow", 10), "bob": post_many(api, bob, "narrow", 6)}
    # Besides the functions host's run_job, four more dispatcher processes hand in every job at once.
    every = jobs["alice"] + jobs["bob"]
    extra = [dispatcher_process(project.id, job_id) for job_id in every[:4]]
    for user, ids in jobs.items():
        done = eventually(partial(all_ended, user, ids, sweep=True), timeout=120, message=f"{user}'s jobs")
        assert {job.status for job in done.values()} == {JobStatus.COMPLETED}
        assert {job.attempts for job in done.values()} == {1}
    for process in extra:
        process.wait(timeout=60)
    assert len(receiver.received()) == 16
    assert receiver.max_in_flight == 2
    assert (balance("alice"), balance("bob")) == (90, 94)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_429_and_503_do_not_count_and_retry_after_is_waited(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    created = put_job_type(api, "busy", receiver.url(), pricing={"credits": 2}, max_attempts=1)
    receiver.respond(
        Scripted(
            429,
            {"Retry-After": "3", "Content-Type": "application/json"},
            body=b'{"error": {"message": "busy"}}',
        ),
        refuse(503, "still busy"),  # no Retry-After: the default pause
    )
    receiver.default = answer({"ok": True})
    job_id = post_job(api, alice, {"type": "busy", "input": {}}).json()["job_id"]
    put_back = eventually(lambda: _queued_after(job_id, 0), message="put back after the 429")
    assert put_back.attempts == 0  # the 429 did not count
    # Bob's job of the same type waits for the type's pause too.
    bob_job = post_job(api, bob, {"type": "busy", "input": {}}).json()["job_id"]
    done = eventually(lambda: all_ended("alice", [job_id], sweep=True), timeout=60, message="alice's job")
    assert (done[job_id].status, done[job_id].attempts) == (JobStatus.COMPLETED, 1)  # one attempt allowed
    eventually(lambda: all_ended("bob", [bob_job], sweep=True), timeout=60, message="bob's job")
    requests = receiver.received()
    secret = created["worker_secret"]
    attempts = [(dispatch_of(secret, r)["job_id"], dispatch_of(secret, r)["attempt"], r.at) for r in requests]
    first_at = attempts[0][2]
    # The 429 and the 503 (whoever's job met it) counted no attempt: every dispatch was an attempt 1.
    assert len(attempts) == 4 and {a for _, a, _ in attempts} == {1}, attempts
    assert stored_jobs("bob")[bob_job].attempts == 1
    # Nothing reached the worker before its Retry-After was over, whoever's job it was.
    assert all(at >= first_at + 3 - 0.05 for _, _, at in attempts[1:]), [at - first_at for *_, at in attempts]
    assert stored_jobs("bob")[bob_job].status is JobStatus.COMPLETED
    # A 500 counts: with one attempt allowed, the job fails.
    receiver.respond(refuse(500, "broken"))
    failed = post_job(api, alice, {"type": "busy", "input": {}}).json()["job_id"]
    ended = eventually(lambda: all_ended("alice", [failed], sweep=True), timeout=60, message="failed job")
    assert (ended[failed].status, ended[failed].attempts) == (JobStatus.FAILED, 1)
    assert (balance("alice"), balance("bob")) == (8, 8)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_customers_take_turns_on_a_one_at_a_time_type(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(100)
    created = put_job_type(api, "single", receiver.url(), pricing={"credits": 1}, max_concurrency=1)
    receiver.default = answer({}, delay_s=0.2)
    backlog = post_many(api, alice, "single", 40)
    # Every one of alice's jobs handed in (the emulator runs the creation triggers one at a time: a job
    # created later waits behind the others' triggers, which production runs side by side).
    eventually(
        lambda: flow.known_count("single") + len(receiver.received()) >= 40, timeout=120, message="backlog in"
    )
    bob_job = post_job(api, bob, {"type": "single", "input": {}}).json()["job_id"]
    # From when bob's job is handed in (its creation trigger and push go through the emulator first).
    eventually(
        lambda: (
            flow.is_known("single", bob_job) or any(bob_job.encode() in r.body for r in receiver.received())
        ),
        timeout=60,
        message="bob's job handed in",
    )
    seen_before_bob = len(receiver.received())
    eventually(lambda: all_ended("bob", [bob_job], sweep=True), timeout=120, message="bob's job")
    order = [dispatch_of(created["worker_secret"], r)["job_id"] for r in receiver.received()]
    position = order.index(bob_job)
    # Bob's job starts next, or after the one or two of alice's already granted when it was handed in.
    assert position - seen_before_bob <= 3, (position, seen_before_bob)
    assert stored_jobs("alice")[backlog[-1]].status in (JobStatus.QUEUED, JobStatus.RUNNING)
    assert receiver.max_in_flight == 1
    eventually(lambda: all_ended("alice", backlog, sweep=True), timeout=180, message="alice's backlog")
    assert receiver.max_in_flight == 1
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_jobs_of_a_type_deleted_while_they_wait_end_at_their_deadline(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(20)
    put_job_type(api, "doomed", receiver.url(), pricing={"credits": 3}, max_concurrency=1, max_attempts=2)
    # The first dispatch fails (a retry is due), the next hangs while the others wait their turn.
    receiver.respond(refuse(500, "broken"))
    receiver.default = answer({}, delay_s=4)
    first = post_job(api, alice, {"type": "doomed", "input": {}}).json()["job_id"]
    eventually(
        lambda: (
            stored_jobs("alice")[first].attempts == 1
            and stored_jobs("alice")[first].status is JobStatus.QUEUED
        ),
        message="first attempt failed",
    )
    waiting = post_many(api, alice, "doomed", 3) + post_many(api, bob, "doomed", 2)
    # The operator removes the type's document altogether (not a tombstone): nothing can run them now.
    token = admin_token(api)
    assert api.request("DELETE", "/v1/admin/job_types/doomed", token=token).status_code == 200
    firestore_client().collection("job_types").document("doomed").delete()
    time.sleep(5)  # the type catalogue's cache (10 s at most) still knows the type for a moment
    mine = [first, *waiting[:3]]
    jobs = {**stored_jobs("alice"), **stored_jobs("bob")}
    deadline = max(jobs[j].deadline_at for j in [*mine, *waiting[3:]])  # type: ignore[type-var]
    assert deadline is not None
    report = sweep_jobs(now=deadline + timedelta(seconds=1))
    ended = {**stored_jobs("alice"), **stored_jobs("bob")}
    for job_id in [*mine, *waiting[3:]]:
        job = ended[job_id]
        if job.status is JobStatus.COMPLETED:
            continue  # one may have run before the document went
        assert (job.status, job.failure_reason and job.failure_reason.value) == (
            JobStatus.FAILED,
            "deadline_exceeded",
        ), job_id
        assert job_id in report.past_deadline or job_id in report.expired
    spent = {
        u: sum(1 for j in ended.values() if j.user_id == u and j.status is JobStatus.COMPLETED) * 3
        for u in ("alice", "bob")
    }
    assert (balance("alice"), balance("bob")) == (20 - spent["alice"], 20 - spent["bob"])
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_sweep_facing_600_unreadable_due_documents_still_retries_a_real_job(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, _ = tenants(10)
    created = put_job_type(api, "steady", receiver.url(), pricing={"credits": 2})
    receiver.respond(refuse(500, "once"))
    receiver.default = answer({"second": True})
    job_id = post_job(api, alice, {"type": "steady", "input": {}}).json()["job_id"]
    retry = eventually(lambda: _queued_after(job_id, 1), message="first attempt failed")
    assert retry.sweep_at is not None
    # 600 documents due before the retry, none of which fits the Job model, over every index shard.
    db = firestore_client()
    long_ago = retry.sweep_at - timedelta(hours=1)
    for start in (0, 300):
        batch = db.batch()
        for n in range(start, start + 300):
            batch.set(
                db.collection("jobs").document(f"job_{n:024x}"),
                {"index_shard": n % 64, "sweep_at": long_ago, "status": "mangled", "user_id": 7},
            )
        batch.commit()
    assert retry.next_attempt_at is not None
    eventually(lambda: utc_now() > retry.next_attempt_at, message="the retry's backoff over")  # type: ignore[operator]
    later = utc_now()
    reports = []
    for _ in range(3):
        reports.append(sweep_jobs(now=later))
        if job_id in reports[-1].dispatched:
            break
    assert job_id in reports[-1].dispatched, [(len(r.pushed_back), r.dispatched) for r in reports]
    assert sum(len(r.pushed_back) for r in reports) <= 600
    done = eventually(lambda: all_ended("alice", [job_id], sweep=True), timeout=60, message="retried job")
    assert (done[job_id].status, done[job_id].attempts, done[job_id].result) == (
        JobStatus.COMPLETED,
        2,
        {"second": True},
    )
    # The pushed-back documents are not due again at once; the sweep does not re-read handed-in jobs.
    assert not sweep_jobs(now=later).pushed_back
    assert [dispatch_of(created["worker_secret"], r)["attempt"] for r in receiver.received()] == [1, 2]
    assert job_ref(job_id).get().exists
    assert balance("alice") == 8 and balance("bob") == 10
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_the_redis_script_takes_turns_as_the_pure_model_does(project: Project) -> None:
    """shared/jobs/flow.py's Lua script against shared/jobs/turns.FairQueue, on the real redis-server: the same
    admissions and releases grant the same jobs in the same order."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from shared.jobs.turns import FairQueue

    runs = iter(range(10_000))

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), min_size=1, max_size=40))
    def check(steps: list[tuple[str, bool]]) -> None:
        limits = flow.TypeLimits(f"model-{next(runs)}", max_concurrency=1, max_rate_per_s=None, timeout_s=60)
        model = FairQueue()
        now = utc_now()
        holder: str | None = None
        for n, (customer, finish) in enumerate(steps):
            job = f"{customer}{n}"
            model.admit(customer, job)
            flow.admit(limits, job, customer, now)
            granted = flow.grant(limits, now).granted
            expected: list[str] = []
            if holder is None and (turn := model.next_turn()) is not None:
                expected = [turn[1]]
            assert granted == expected
            holder = granted[0] if granted else holder
            if finish and holder is not None:
                granted = flow.release(limits, holder, now).granted
                turn = model.next_turn()
                assert granted == ([turn[1]] if turn else [])
                holder = granted[0] if granted else None

    check()
