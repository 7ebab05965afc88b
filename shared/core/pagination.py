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
from typing import Any, TypeVar

from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field

from shared.core.errors import ApiError, ErrorCode

Snapshot = firestore.DocumentSnapshot[firestore.DocumentReference]
ItemT = TypeVar("ItemT")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# A cursor names a document of the caller's; anything else is refused before Firestore sees it.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}")


class PageQuery(BaseModel):
    """The query parameters of every list: `limit`, and the cursor as `starting_after` or `cursor`."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1 to 100.")
    starting_after: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The id of the last object of the previous page.",
    )
    cursor: str | None = Field(
        default=None, min_length=1, max_length=200, description="Alias of starting_after (next_cursor)."
    )


@dataclass(frozen=True)
class PageParams:
    limit: int
    starting_after: str | None


def page_params(query: PageQuery, id_pattern: re.Pattern[str] = SAFE_ID) -> PageParams:
    starting_after, param = query.starting_after, "starting_after"
    if starting_after is None:
        starting_after, param = query.cursor, "cursor"
    if starting_after is not None and not id_pattern.fullmatch(starting_after):
        raise ApiError(ErrorCode.PARAMETER_INVALID, f"{param} is not a valid cursor.", param=param)
    return PageParams(query.limit, starting_after or None)


def page_of(
    items: list[tuple[str, ItemT]], params: PageParams, render: Callable[[str, ItemT], dict[str, Any]]
) -> dict[str, Any]:
    """One page of an already ordered, bounded list held in memory (cards, packages), in the same shape as
    `list_page`."""
    start = 0
    if params.starting_after is not None:
        ids = [item_id for item_id, _ in items]
        if params.starting_after not in ids:
            raise ApiError(
                ErrorCode.PARAMETER_INVALID,
                "starting_after names no object of yours.",
                param="starting_after",
            )
        start = ids.index(params.starting_after) + 1
    page = items[start : start + params.limit]
    has_more = start + params.limit < len(items)
    return {
        "data": [render(item_id, item) for item_id, item in page],
        "has_more": has_more,
        "next_cursor": page[-1][0] if has_more and page else None,
    }


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
                ErrorCode.PARAMETER_INVALID,
                "starting_after names no object of yours.",
                param="starting_after",
            )
        query = query.start_after(snapshot)
    found = list(query.limit(params.limit + 1).stream())
    page, has_more = found[: params.limit], len(found) > params.limit
    return {
        "data": [render(snapshot) for snapshot in page],
        "has_more": has_more,
        "next_cursor": page[-1].id if has_more and page else None,
    }
