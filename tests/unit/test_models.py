"""Model validation: every stored model converts both ways in memory, and bad values are refused by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared import models as m
from tests.support.model_samples import T0, samples


def test_every_model_has_a_sample() -> None:
    assert set(samples()) == set(m.ALL_MODELS)


@pytest.mark.parametrize("model", m.ALL_MODELS, ids=lambda c: c.__name__)
def test_round_trip_in_memory(model: type[m.FirestoreModel]) -> None:
    original = samples()[model]
    stored = original.to_firestore()
    assert model.from_firestore(stored) == original


def test_enums_are_stored_as_plain_strings() -> None:
    stored = samples()[m.Job].to_firestore()
    assert type(stored["status"]) is str and stored["status"] == "failed"
    stored_hook = samples()[m.WebhookEndpoint].to_firestore()
    assert stored_hook["events"] == ["job.completed"] and type(stored_hook["events"][0]) is str


def test_other_timezones_are_normalised_to_utc() -> None:
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    slot = m.FoundingSlot(user_id="u", created_at=plus_two)
    assert slot.created_at.utcoffset() == timedelta(0) and slot.created_at == T0


def _refusal(model: type[m.FirestoreModel], changes: dict[str, Any]) -> m.ModelDataError:
    data = samples()[model].to_firestore()
    data.update(changes)
    with pytest.raises(m.ModelDataError) as caught:
        model.from_firestore(data)
    return caught.value


@pytest.mark.parametrize(
    ("model", "changes", "field"),
    [
        (m.ApiKey, {"environment": "staging"}, "environment"),
        (m.ApiKey, {"key_hash": "not-hex"}, "key_hash"),
        (m.ApiKey, {"key_prefix": "short"}, "key_prefix"),
        (m.ApiKey, {"created_at": datetime(2026, 1, 1)}, "created_at"),  # noqa: DTZ001 - naive on purpose
        (m.ApiKey, {"status": "deleted"}, "status"),
        (m.WebhookEndpoint, {"events": ["job.exploded"]}, "events.0"),
        (m.WebhookEndpoint, {"secret": "plain"}, "secret"),
        (m.WebhookEndpoint, {"last_status_code": "200"}, "last_status_code"),
        (m.PaymentMethod, {"exp_month": 13}, "exp_month"),
        (m.PaymentMethod, {"last4": "42"}, "last4"),
        (m.SystemConfig, {"total_jobs": -1}, "total_jobs"),
        (m.SystemConfig, {"total_users": 1.5}, "total_users"),
        (
            m.SystemConfig,
            {"credit_packages": {"x": {"name": "X", "credits": 0, "price": 1}}},
            "credit_packages.x.credits",
        ),
        (m.Account, {"credits": "10"}, "credits"),
        (m.Account, {"founding_member_number": 101}, "founding_member_number"),
        (m.Job, {"status": "done"}, "status"),
        (m.Job, {"cost": -1}, "cost"),
        (m.LedgerEntry, {"type": "gift"}, "type"),
        (m.Purchase, {"amount": 0}, "amount"),
        (m.WebhookDelivery, {"attempt": 0}, "attempt"),
        (m.ProcessedEvent, {"created_at": "yesterday"}, "created_at"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    model: type[m.FirestoreModel], changes: dict[str, Any], field: str
) -> None:
    error = _refusal(model, changes)
    assert error.field == field
    assert field in str(error) and model.__name__ in str(error)


def test_missing_required_field_is_named() -> None:
    data = samples()[m.Job].to_firestore()
    del data["user_id"]
    with pytest.raises(m.ModelDataError, match="user_id"):
        m.Job.from_firestore(data)


def test_missing_document_is_refused() -> None:
    with pytest.raises(m.ModelDataError):
        m.Account.from_firestore(None)
