"""Every model round-trips exactly through the Firestore emulator (timestamps, nulls, enums, nesting)."""

from __future__ import annotations

import pytest

from shared import models as m
from shared.core.clients import firestore_client
from tests.conftest import Project
from tests.support.model_samples import samples


@pytest.mark.parametrize("model", m.ALL_MODELS, ids=lambda c: c.__name__)
def test_round_trip_through_firestore(project: Project, model: type[m.FirestoreModel]) -> None:
    original = samples()[model]
    ref = firestore_client().collection("roundtrip").document(model.__name__)
    ref.set(original.to_firestore())
    stored = ref.get().to_dict()
    assert model.from_firestore(stored) == original
    assert "id" not in (stored or {})  # ids stay outside the body
