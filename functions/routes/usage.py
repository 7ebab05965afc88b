"""Usage per key and UTC day (docs/rate-limits.md): for the signed-in owner or any of the owner's keys."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared.api.auth_gate import caller_user_id
from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import UsageReport
from shared.core.errors import ApiError, ErrorCode
from shared.keys.service import require_own_key
from shared.keys.usage import read_usage, shown_usage, sum_usage
from shared.models import utc_now

router = Router(tags=("usage",))
DEFAULT_DAYS = 30
MAX_DAYS = 92
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    from_date: str | None = Field(
        default=None, alias="from", pattern=DAY_PATTERN, description="First UTC day (YYYY-MM-DD)."
    )
    to_date: str | None = Field(
        default=None, alias="to", pattern=DAY_PATTERN, description="Last UTC day (YYYY-MM-DD); default today."
    )
    key_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$", description="Only this key (one of yours)."
    )


def _day(value: str, param: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID, f"{param} is not a date (YYYY-MM-DD).", param=param
        ) from None


def day_range(query: UsageQuery, today: date) -> tuple[date, date]:
    last = _day(query.to_date, "to") if query.to_date else today
    first = _day(query.from_date, "from") if query.from_date else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError(ErrorCode.PARAMETER_INVALID, "from must not be after to.", param="from")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(ErrorCode.PARAMETER_INVALID, f"At most {MAX_DAYS} days at a time.", param="from")
    return first, last


@router.add(
    "GET",
    "/v1/usage",
    operation_id="get_usage",
    auth="user_or_key",
    summary="Requests, refusals, jobs and credits per key and UTC day.",
    query=UsageQuery,
    response=UsageReport,
    errors=(ErrorCode.PARAMETER_INVALID, ErrorCode.RESOURCE_MISSING),
    description="Days without usage are left out. Counts are exact within about a minute. "
    f"Default: the last {DEFAULT_DAYS} days; at most {MAX_DAYS} days per request.",
)
def usage(request: ApiRequest) -> Reply:
    query = request.parsed_query(UsageQuery)
    first, last = day_range(query, utc_now().date())
    user_id = caller_user_id(request)
    if query.key_id is not None:
        require_own_key(user_id, query.key_id)
    days = read_usage(user_id, query.key_id, first, last)
    data = [{"date": d.day, "key_id": d.key_id, **shown_usage(d)} for d in days]
    return Reply({"data": data, "totals": sum_usage(days), "from": first.isoformat(), "to": last.isoformat()})
