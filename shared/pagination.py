"""Cursor pagination for list endpoints, newest first: `limit` (1..100, default 10) and `starting_after`
(alias `cursor`): the id of the last object of the previous page. Answers
`{"data": [...], "has_more": bool, "next_cursor": str | None}`.

The cursor is a document id; the caller's own filters are applied to it (a cursor naming another user's
object is refused like an unknown one), and Firestore resumes after that document's sort values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.cloud import firestore

from shared.errors import ApiError
from shared.http import ApiRequest

Snapshot = firestore.DocumentSnapshot[firestore.DocumentReference]
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageParams:
    limit: int
    starting_after: str | None


def page_params(request: ApiRequest, id_pattern: re.Pattern[str]) -> PageParams:
    raw_limit = request.query("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not re.fullmatch(r"[0-9]{1,4}", raw_limit.strip()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ApiError(
                "parameter_invalid", f"limit must be an integer from 1 to {MAX_LIMIT}.", param="limit"
            )
        limit = int(raw_limit)
    starting_after = request.query("starting_after")
    param = "starting_after"
    if starting_after is None:
        starting_after, param = request.query("cursor"), "cursor"
    if starting_after is not None and not id_pattern.fullmatch(starting_after):
        raise ApiError("parameter_invalid", f"{param} is not a valid cursor.", param=param)
    return PageParams(limit, starting_after or None)


def list_page(
    query: firestore.Query,
    params: PageParams,
    cursor_snapshot: Callable[[str], Snapshot | None],
    render: Callable[[Snapshot], dict[str, Any]],
) -> dict[str, Any]:
    """`query` must already be filtered to the caller and ordered. `cursor_snapshot(id)` returns the
    cursor's document only when the caller may see it."""
    if params.starting_after is not None:
        snapshot = cursor_snapshot(params.starting_after)
        if snapshot is None:
            raise ApiError(
                "parameter_invalid", "starting_after names no object of yours.", param="starting_after"
            )
        query = query.start_after(snapshot)
    found = list(query.limit(params.limit + 1).stream())
    page, has_more = found[: params.limit], len(found) > params.limit
    return {
        "data": [render(snapshot) for snapshot in page],
        "has_more": has_more,
        "next_cursor": page[-1].id if has_more and page else None,
    }
