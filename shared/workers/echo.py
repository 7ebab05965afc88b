"""The built-in worker of `echo` jobs (HTTP function `echo_worker`), held to the same worker contract as any
operator's worker (docs/workers.md): it verifies the Standard Webhooks signature with the `echo` type's
secrets, and answers 200 `{"result": input}`, or 422 with an error when `input.fail` is true.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.core.errors import ApiError, ErrorCode
from shared.jobs.types import ECHO_JOB_TYPE, stored_job_type
from shared.models import JobType, utc_now
from shared.workers.job_types import signing_secrets

FAIL_MESSAGE = "The job failed as requested (input.fail is true)."
MAX_DISPATCH_BYTES = 2 * 1024 * 1024


def _verified(job_type: JobType | None, headers: Mapping[str, str], body: bytes) -> bool:
    if job_type is None:
        return False
    for secret in signing_secrets(job_type, utc_now()):
        try:
            Webhook(secret).verify(body, dict(headers), json_parse=False)
        except WebhookVerificationError:
            continue
        return True
    return False


def handle_echo(headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """(status, answer) for one dispatch."""
    # The cached definition may predate a rotation: read it once more before refusing.
    if not _verified(stored_job_type(ECHO_JOB_TYPE), headers, body) and not _verified(
        stored_job_type(ECHO_JOB_TYPE, fresh=True), headers, body
    ):
        raise ApiError(ErrorCode.INVALID_SIGNATURE, "The dispatch is not signed with the echo type's secret.")
    try:
        dispatch = json.loads(body)
    except ValueError:
        raise ApiError(ErrorCode.INVALID_JSON, "The dispatch is not JSON.") from None
    job_input = dispatch.get("input") if isinstance(dispatch, dict) else None
    if not isinstance(job_input, dict):
        raise ApiError(ErrorCode.PARAMETER_INVALID, "The dispatch has no input object.", param="input")
    if job_input.get("fail") is True:
        return 422, {"error": {"message": FAIL_MESSAGE}}
    return 200, {"result": job_input}
