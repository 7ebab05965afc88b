"""The migration of system/config.job_costs into stored job types, decided without emulators
(shared/workers/catalogue.plan_migration); the writes are tests/integration/test_job_catalogue.py."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.models import JobTestMode, utc_now
from shared.workers.catalogue import SEEDED, SEEDED_PRICE, echo_type, legacy_type, plan_migration


def test_nothing_to_migrate_without_the_fields() -> None:
    for fields in (None, dict[str, Any]()):
        plan = plan_migration(fields, [], SEEDED)
        assert (plan.create, plan.seeded_prices["echo"], plan.kept, plan.dropped, plan.remove_fields) == (
            {},
            SEEDED_PRICE,
            [],
            {},
            False,
        )


def test_each_entry_becomes_a_type_and_echo_takes_its_price() -> None:
    plan = plan_migration(
        {"job_costs": {"echo": 4, "resize": 3, "free": 0}, "default_job_cost": 9}, [], SEEDED
    )
    assert plan.create == {"resize": 3, "free": 0}
    assert plan.seeded_prices["echo"] == 4
    assert plan.remove_fields is True


def test_a_seeded_type_is_told_apart_by_the_seed_table_not_by_its_name() -> None:
    assert plan_migration({"job_costs": {"echo": 4}}, [], ()).create == {"echo": 4}
    assert plan_migration({"job_costs": {"mirror": 4}}, [], ["mirror"]).seeded_prices == {"mirror": 4}


def test_echo_without_an_entry_is_priced_by_default_job_cost() -> None:
    assert (
        plan_migration({"job_costs": {"resize": 3}, "default_job_cost": 7}, [], SEEDED).seeded_prices["echo"]
        == 7
    )
    assert plan_migration({"job_costs": {"resize": 3}}, [], SEEDED).seeded_prices["echo"] == SEEDED_PRICE
    only_default = plan_migration({"default_job_cost": 2}, [], SEEDED)
    assert (only_default.seeded_prices["echo"], only_default.create, only_default.remove_fields) == (
        2,
        {},
        True,
    )


def test_stored_types_stand_and_bad_entries_are_dropped_one_by_one() -> None:
    fields = {
        "job_costs": {
            "paint": 2,
            "gone": 5,
            "a.b": 1,
            "Upper": 1,
            "neg": -1,
            "half": 1.5,
            "flag": True,
            "ok": 1,
        },
        "default_job_cost": 1,
    }
    plan = plan_migration(
        fields, ["paint", "gone"], SEEDED
    )  # "gone" is a deleted type's tombstone: it stands too
    assert plan.create == {"ok": 1}
    assert plan.kept == ["gone", "paint"]
    assert set(plan.dropped) == {"a.b", "Upper", "neg", "half", "flag"}
    assert plan.remove_fields is True


def test_malformed_fields_keep_the_rest() -> None:
    plan = plan_migration({"job_costs": ["resize"], "default_job_cost": "x"}, [], SEEDED)
    assert (plan.create, plan.seeded_prices["echo"]) == ({}, SEEDED_PRICE)
    assert set(plan.dropped) == {"job_costs", "default_job_cost"}
    assert plan.remove_fields is True
    bad_echo = plan_migration({"job_costs": {"echo": -2, "resize": 1}, "default_job_cost": 3}, [], SEEDED)
    assert (bad_echo.seeded_prices["echo"], bad_echo.create, set(bad_echo.dropped)) == (
        3,
        {"resize": 1},
        {"echo"},
    )


NAMES = st.sampled_from(["echo", "resize", "paint", "a.b", "x-1", "y_2", "Bad"])
PRICES = st.one_of(st.integers(-2, 50), st.just(1.5), st.booleans())


@given(st.dictionaries(NAMES, PRICES), st.one_of(st.none(), st.integers(-1, 9)), st.lists(NAMES, unique=True))
def test_the_plan_does_not_depend_on_order_and_a_second_run_changes_nothing(
    costs: dict[str, Any], default: int | None, stored: list[str]
) -> None:
    fields: dict[str, Any] = {"job_costs": costs}
    if default is not None:
        fields["default_job_cost"] = default
    plan = plan_migration(fields, stored, SEEDED)
    reordered = plan_migration(
        {k: fields[k] for k in reversed(fields)} | {"job_costs": dict(reversed(costs.items()))},
        list(reversed(stored)),
        SEEDED,
    )
    assert (reordered.create, reordered.seeded_prices["echo"], sorted(reordered.kept), reordered.dropped) == (
        plan.create,
        plan.seeded_prices["echo"],
        sorted(plan.kept),
        plan.dropped,
    )
    # Every name it creates was neither stored nor echo; applied, the fields are gone: nothing is left to do.
    assert not set(plan.create) & (set(stored) | {"echo"})
    again = plan_migration({}, [*stored, *plan.create, "echo"], SEEDED)
    assert (again.create, again.remove_fields, again.dropped) == ({}, False, {})


def test_the_seeded_definitions() -> None:
    now = utc_now()
    migrated = legacy_type(3, now)
    assert migrated.worker_url is None and migrated.pricing.model_dump() == {"credits": 3}
    assert migrated.secret.startswith("whsec_")
    echo = echo_type("http://127.0.0.1:1/p/us-central1/echo_worker", 2, now)
    assert echo.worker_url is not None and echo.worker_url.endswith("/echo_worker")
    assert (echo.test_jobs, echo.pricing.model_dump()) == (JobTestMode.WORKER, {"credits": 2})
    assert echo.secret != legacy_type(3, now).secret
