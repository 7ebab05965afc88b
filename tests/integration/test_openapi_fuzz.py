"""Schemathesis against the functions host: every operation of /v1/openapi.json, with real credentials.

Fixed seed (derandomize) and a bounded number of cases per operation. Every answer must be documented
(status, headers, content type, body schema) and none may be a 5xx. The maintenance switch runs last
and is switched off again, so that earlier operations are not answered 503.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from itertools import cycle
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Project
from tests.support.openapi_operations import Case, all_operations
from tests.support.platform import ApiClient, create_account, create_api_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
POSITIVE_CASES = 45  # per operation; operations without inputs have fewer distinct cases
NEGATIVE_CASES = 20
REAL_ID_CASES = 10
# Job types are configuration (system/config), not schema: a batch with a known one reaches the 201.
SUCCESS_BODIES = {"POST /v1/jobs": {"type": "echo", "input": {"fuzz": True}}}
MIN_TOTAL_CASES = 1000
USER = "fuzz-user"
# Webhook deliveries go where PUT /v1/webhook says: keep every registered target on this machine.
SAFE_WEBHOOK_URL = "http://127.0.0.1:9/fuzz-hook"
SAFE_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _routable(case: Case) -> bool:
    """functions-framework itself (in production too) routes with werkzeug's `<path:path>`, which does not
    match a newline: such a path gets its HTML 404 before the function runs. Not ours to describe."""
    values = [str(value).lower() for value in (case.path_parameters or {}).values()]
    return not any("\n" in value or "%0a" in value for value in values)  # generated values come encoded


def _keep_webhook_local(case: Case) -> None:
    body = case.body
    if case.method.upper() == "PUT" and case.path == "/v1/webhook" and isinstance(body, dict):
        url = body.get("url")
        if isinstance(url, str):
            try:
                host = urlsplit(url).hostname
            except ValueError:
                host = None
            if host not in SAFE_HOSTS:
                body["url"] = SAFE_WEBHOOK_URL


def test_every_operation_answers_as_described(project: Project, api: ApiClient) -> None:
    user_token = api.user_token(USER, email="fuzz@example.com")
    admin_token = api.user_token("fuzz-admin", admin=True)
    create_account(USER, credits=100_000)
    # The fuzzer sends as fast as it can: keys at the highest limit, so that cases reach their routes.
    _, live_key = create_api_key(USER, "live", rate_limit=1000)
    _, test_key = create_api_key(USER, "test", rate_limit=1000)
    credentials: dict[str, Iterator[str | None]] = {
        "none": cycle([None]),
        "key": cycle([live_key, test_key]),
        "user": cycle([user_token]),
        "user_or_key": cycle([live_key, user_token, test_key]),
        "admin": cycle([admin_token]),
        # A worker's callback token exists only inside a callback type's dispatch: here the refusals.
        "callback": cycle(["not-a-callback-token"]),
    }
    real_ids = _seed(api, user_token, live_key)
    document = requests.get(api.base_url + "/v1/openapi.json", timeout=30).json()
    auth_of = _auth_by_operation(document)
    schema = schemathesis.openapi.from_dict(document)
    operations = all_operations(schema)
    # The maintenance switch last: while it is on, everything else answers 503.
    # Deletions after the rest, so that the operations on what they delete also meet it.
    operations.sort(key=lambda op: (op.path == "/v1/admin/maintenance", op.method.upper() == "DELETE"))
    session = requests.Session()
    cases: Counter[str] = Counter()

    for operation in operations:
        tokens = credentials[auth_of[(operation.method.upper(), operation.path)]]
        described = document["paths"][operation.path][operation.method.lower()]
        modes: list[tuple[Any, ...]] = [(GenerationMode.POSITIVE, POSITIVE_CASES)]
        if described.get("parameters") or described.get("requestBody"):
            modes.append((GenerationMode.NEGATIVE, NEGATIVE_CASES))  # nothing to get wrong otherwise
        names = re.findall(r"{(\w+)}", operation.path)
        if names and all(name in real_ids for name in names):
            # Random ids mostly meet 404; these reach the success path too.
            known = {name: real_ids[name] for name in names}
            modes.append((GenerationMode.POSITIVE, REAL_ID_CASES, {"path_parameters": known}))
        if operation.label in SUCCESS_BODIES:
            modes.append((GenerationMode.POSITIVE, REAL_ID_CASES, {"body": SUCCESS_BODIES[operation.label]}))
        for mode, count, *fixed in modes:
            strategy = operation.as_strategy(generation_mode=mode, **(fixed[0] if fixed else {}))
            _fuzz(strategy.filter(_routable), count, tokens, api.base_url, session, cases, operation.label)

    # The fuzzing may have used up the admin's per-user rate limit: wait as told, a few times at most.
    for _ in range(5):
        off = api.request("PUT", "/v1/admin/maintenance", token=admin_token, json={"enabled": False})
        if off.status_code != 429:
            break
        time.sleep(int(off.headers["Retry-After"]))
    assert off.status_code == 200
    total = sum(cases.values())
    print(f"schemathesis: {total} cases; by operation and status: {dict(sorted(cases.items()))}")
    assert {label.rsplit(" ", 1)[0] for label in cases} == {operation.label for operation in operations}
    assert total >= MIN_TOTAL_CASES


def _fuzz(
    strategy: Any,
    count: int,
    tokens: Iterator[str | None],
    base_url: str,
    session: requests.Session,
    cases: Counter[str],
    label: str,
) -> None:
    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: Case) -> None:
        token = next(tokens)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        _keep_webhook_local(case)
        response = case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS)
        cases[f"{label} {response.status_code}"] += 1

    call()


def _seed(api: ApiClient, user_token: str, live_key: str) -> dict[str, str]:
    """Objects for the list and retrieve operations to show, and real ids for their paths."""
    webhook = api.request(
        "PUT", "/v1/webhook", token=user_token, json={"url": SAFE_WEBHOOK_URL, "events": ["job.completed"]}
    )
    assert webhook.status_code == 201, webhook.text
    jobs = [
        api.request("POST", "/v1/jobs", token=live_key, json={"type": "echo", "input": {"n": n}})
        for n in range(3)
    ]
    assert all(job.status_code == 201 for job in jobs), [job.text for job in jobs]
    spare = api.request(
        "POST", "/v1/api_keys", token=user_token, json={"name": "spare", "environment": "test"}
    )
    assert spare.status_code == 201, spare.text
    return {"job_id": jobs[0].json()["job_id"], "key_id": spare.json()["key_id"]}


def _auth_by_operation(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    """The credential each operation needs, read back from its security requirement."""
    by_schemes = {
        (): "none",
        ("ApiKey",): "key",
        ("FirebaseIdToken",): "user",
        ("ApiKey", "FirebaseIdToken"): "user_or_key",
        ("AdminIdToken",): "admin",
        ("CallbackToken",): "callback",
    }
    result = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            schemes = tuple(sorted(name for requirement in operation["security"] for name in requirement))
            result[(method.upper(), path)] = by_schemes[schemes]
    return result
