"""Per-account caps on what makes deliveries and storage for free: test sends (`POST /v1/webhook/test`),
manual retries of an event and recoveries (docs/webhooks.md). Each makes an event or more attempts, and
each attempt a stored delivery document, so without a cap one account could fill storage and the test
lane at no cost.

One document per account, `webhook_controls/{uid}`: the counts of the current hour's window, updated on
the document as read (a precondition; one write per control, far below a document's write rate at these
caps). A refused control answers 429 `rate_limited` with the seconds until the window ends. The operator's
own retries (admin routes) are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from google.api_core.exceptions import AlreadyExists

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.models import WebhookControlUsage, utc_now

WINDOW = timedelta(hours=1)


class Control(StrEnum):
    TEST_SEND = "test_sends"
    RETRY = "retries"
    RECOVER = "recoveries"


LIMITS: dict[Control, int] = {Control.TEST_SEND: 60, Control.RETRY: 300, Control.RECOVER: 10}
_NAMES = {
    Control.TEST_SEND: "test sends",
    Control.RETRY: "event retries",
    Control.RECOVER: "recoveries",
}


@dataclass(frozen=True)
class Taken:
    allowed: bool
    usage: WebhookControlUsage  # the usage to store when allowed
    retry_after_s: int = 0


def take(usage: WebhookControlUsage | None, control: Control, now: datetime) -> Taken:
    """The pure rule: one more `control` in the window that `now` falls in, if under its limit."""
    if usage is None or now >= usage.window_start + WINDOW or now < usage.window_start:
        usage = WebhookControlUsage(window_start=now)
    used = getattr(usage, control.value)
    if used >= LIMITS[control]:
        wait = (usage.window_start + WINDOW - now).total_seconds()
        return Taken(False, usage, max(1, math.ceil(wait)))
    return Taken(True, usage.model_copy(update={control.value: used + 1}))


def take_control(user_id: str, control: Control) -> None:
    """Count one `control` of the account, or refuse it with 429 when its hourly cap is reached."""
    db = firestore_client()
    ref = db.collection(WebhookControlUsage.collection).document(user_id)

    def attempt() -> None:
        snapshot = ref.get()
        current = WebhookControlUsage.from_firestore(snapshot.to_dict()) if snapshot.exists else None
        taken = take(current, control, utc_now())
        if not taken.allowed:
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                f"This account made {LIMITS[control]} {_NAMES[control]} this hour, the limit; "
                f"retry in {taken.retry_after_s} s.",
                headers={"Retry-After": str(taken.retry_after_s)},
            )
        if snapshot.exists:
            ref.update(
                taken.usage.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time)
            )
        else:
            ref.create(taken.usage.to_firestore())

    retry_commit(
        attempt,
        what=f"webhook controls of {user_id}",
        max_attempts=10,
        retry_on=(*RETRYABLE_COMMIT_ERRORS, AlreadyExists),
        gave_up=lambda: ApiError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "Too many concurrent requests; retry.",
            headers={"Retry-After": "1"},
        ),
    )
