"""Job types and their prices from `system/config` (`job_costs`, `default_job_cost`), read at most every
CONFIG_REFRESH_SECONDS per instance and project.

A missing or malformed config never blocks jobs: the model's defaults apply (and a malformed one is logged).
Allowed job types are the keys of `job_costs` plus `echo` (the built-in local worker's type); a type priced
only by `default_job_cost` would have no worker to run it, so it is refused up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.core import logs
from shared.core.ttl_cache import TtlCache
from shared.models import DEFAULT_JOB_COSTS

CONFIG_REFRESH_SECONDS = 10.0
ECHO_JOB_TYPE = "echo"
_FIELDS = ["job_costs", "default_job_cost"]


class _PricingFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_costs: dict[str, Annotated[int, Field(ge=0, strict=True)]] = Field(
        default_factory=lambda: dict(DEFAULT_JOB_COSTS)
    )
    default_job_cost: Annotated[int, Field(ge=0, strict=True)] = 1


@dataclass(frozen=True)
class JobPricing:
    job_costs: dict[str, int]
    default_job_cost: int

    def allows(self, job_type: str) -> bool:
        return job_type == ECHO_JOB_TYPE or job_type in self.job_costs

    def cost_of(self, job_type: str) -> int:
        return self.job_costs.get(job_type, self.default_job_cost)

    @property
    def allowed_types(self) -> list[str]:
        return sorted({ECHO_JOB_TYPE, *self.job_costs})


_pricing: TtlCache[str, JobPricing] = TtlCache(CONFIG_REFRESH_SECONDS)


def _default_pricing() -> JobPricing:
    defaults = _PricingFields()
    return JobPricing(defaults.job_costs, defaults.default_job_cost)


def _load() -> JobPricing:
    from shared.system.config import config_ref

    snapshot = config_ref().get(field_paths=_FIELDS)
    if not snapshot.exists:
        return _default_pricing()
    try:
        fields = _PricingFields.model_validate(snapshot.to_dict() or {})
    except ValidationError as exc:
        logs.error("system/config job pricing is malformed; using defaults", detail=str(exc))
        return _default_pricing()
    return JobPricing(fields.job_costs, fields.default_job_cost)


def job_pricing() -> JobPricing:
    """The pricing in system/config, read at most every CONFIG_REFRESH_SECONDS per instance."""
    return _pricing.get("job_pricing", lambda _previous: _load())
