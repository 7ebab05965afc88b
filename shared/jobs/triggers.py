"""What a new job document sets off (the `on_job_created` trigger): it is counted, then handed to the workers.

Both steps are idempotent (the count has an exactly-once marker; a duplicate job message is harmless to the
workers), so a redelivered or retried event, or a failure between the two, loses and doubles nothing.
"""

from __future__ import annotations

from shared.core.firestore_events import DocumentChange
from shared.counters.service import count_job_created
from shared.jobs.service import publish_new_job


def handle_job_created(change: DocumentChange) -> None:
    # The publish's round trip overlaps the count's commit: the emulator runs triggers one at a time, so
    # each trigger's latency is the local platform's job throughput (bench/counters).
    wait_for_publish = publish_new_job(change)
    count_job_created(change)
    wait_for_publish()
