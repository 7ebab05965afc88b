"""Auto top-up and the low-balance alert: the signed-in customer's settings and their state."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from shared.api.auth_gate import require_user
from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import AutoTopUpResource
from shared.billing.auto_top_up import configure, read_settings, settings_resource
from shared.core.errors import ErrorCode

router = Router(tags=("credits",))
MAX_CREDITS = 1_000_000_000


class AutoTopUpInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "enabled": True,
                    "threshold": 100,
                    "package": "popular",
                    "monthly_limit_cents": 9000,
                    "low_balance_threshold": 200,
                }
            ]
        },
    )

    enabled: StrictBool
    threshold: StrictInt = Field(ge=0, le=MAX_CREDITS, description="Buy when the balance falls below this.")
    package: str | None = Field(
        default=None, max_length=64, description="The credit package bought (required when enabled)."
    )
    monthly_limit_cents: StrictInt = Field(
        default=0, ge=0, le=100_000_000, description="At most this much is charged per UTC month."
    )
    low_balance_threshold: StrictInt | None = Field(
        default=None,
        ge=0,
        le=MAX_CREDITS,
        description="credits.low is sent when the balance falls below this (again after it was back above).",
    )


@router.add(
    "PUT",
    "/v1/auto_top_up",
    operation_id="set_auto_top_up",
    auth="user",
    summary="Turn auto top-up on or off, and set the low-balance alert.",
    body=AutoTopUpInput,
    response=AutoTopUpResource,
    errors=(ErrorCode.ACCOUNT_MISSING,),
    description=(
        "When the balance falls below `threshold`, one purchase of `package` is made off-session with the"
        " default card (an `auto_top_up.succeeded` or `auto_top_up.failed` webhook event tells how it went)."
        " Refused (400): a package whose credits would not bring the balance back to the threshold, a"
        " `monthly_limit_cents` below its price. A declined charge turns auto top-up off (`disabled_reason`);"
        " putting it on again clears that."
    ),
)
def put_auto_top_up(request: ApiRequest) -> Reply:
    body = request.parse(AutoTopUpInput)
    return Reply(
        configure(
            require_user(request).user_id,
            enabled=body.enabled,
            threshold=body.threshold,
            package=body.package,
            monthly_limit_cents=body.monthly_limit_cents,
            low_balance_threshold=body.low_balance_threshold,
        )
    )


@router.add(
    "GET",
    "/v1/auto_top_up",
    operation_id="get_auto_top_up",
    auth="user",
    summary="Auto top-up's settings and state: why it is off, this month's spend.",
    response=AutoTopUpResource,
)
def get_auto_top_up(request: ApiRequest) -> Reply:
    return Reply(settings_resource(read_settings(require_user(request).user_id)))
