"""Two versions side by side (docs/deploy.md, "Changing a stored document"): during a deploy or a rollback
each version reads what the other wrote. A field added, renamed and removed across versions 1 and 2 of one
stored document, each step as the procedure says, read both ways; and the platform's own models: a newer
version's unknown fields are ignored on read (at every level), refused on write and in API input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from pydantic import AliasChoices, Field, ValidationError

from shared.jobs.service import CreateJobRequest
from shared.models import FirestoreModel, Job, JobType, ModelDataError, WebhookEvent

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class ReportV1(FirestoreModel):
    """Version 1 of a stored document: `title`, `pages`, and `legacy_flag` (to be removed)."""

    collection: ClassVar[str] = "reports"

    title: str
    pages: int = 0
    legacy_flag: bool = False  # step 0 of removing it: it already has a default (version 1 never needs it)


class ReportV2(FirestoreModel):
    """Version 2: adds `language` (with a default), renames `pages` to `page_count` (reads either, writes
    both while version 1 may still run), and no longer writes `legacy_flag`."""

    collection: ClassVar[str] = "reports"

    title: str
    language: str = "en"
    page_count: int = Field(default=0, validation_alias=AliasChoices("page_count", "pages"))

    def to_firestore(self) -> dict[str, Any]:
        data = super().to_firestore()
        data["pages"] = self.page_count  # the old name too, until no running version reads it
        return data


def test_version_1_reads_what_version_2_wrote() -> None:
    written = ReportV2(title="q1", language="de", page_count=7).to_firestore()
    read = ReportV1.from_firestore(written)
    # Added field: ignored. Renamed field: read under its old name. Removed field: its default.
    assert (read.title, read.pages, read.legacy_flag) == ("q1", 7, False)


def test_version_2_reads_what_version_1_wrote() -> None:
    written = ReportV1(title="q1", pages=3, legacy_flag=True).to_firestore()
    read = ReportV2.from_firestore(written)
    # Added field: its default. Renamed field: read under the old name. Removed field: ignored.
    assert (read.title, read.language, read.page_count) == ("q1", "en", 3)


def test_the_last_step_reads_both_names_and_writes_the_new_one_only() -> None:
    """Version 3 (once no version 1 runs anywhere) stops writing `pages`; it still reads documents that
    only have it, until a backfill rewrote them all."""

    class ReportV3(ReportV2):
        def to_firestore(self) -> dict[str, Any]:
            return FirestoreModel.to_firestore(self)

    written = ReportV3(title="q2", page_count=9).to_firestore()
    assert "pages" not in written
    assert ReportV3.from_firestore({"title": "old", "pages": 4}).page_count == 4
    assert ReportV2.from_firestore(written).page_count == 9  # a rollback to version 2 still reads it


def test_a_known_field_is_still_validated_strictly_on_read() -> None:
    with pytest.raises(ModelDataError) as refused:
        ReportV2.from_firestore({"title": "q1", "page_count": "seven", "newer": 1})
    assert refused.value.field == "page_count"


def test_writes_stay_strict() -> None:
    with pytest.raises(ValidationError):
        ReportV2.model_validate({"title": "q1", "stray": True})
    with pytest.raises(ValidationError):
        CreateJobRequest.model_validate({"type": "echo", "input": {}, "priority": 1})


def job_document(**extra: Any) -> dict[str, Any]:
    return Job(user_id="u1", key_id="k1", type="echo", livemode=True, created_at=NOW).to_firestore() | extra


def test_the_platforms_models_ignore_a_newer_versions_fields_at_every_level() -> None:
    stored = job_document(
        priority=5,  # a field a newer version added
        pricing={"credits": 2, "currency": "eur"},  # ... and one inside a nested model
        held_answer={"attempt": 1, "verdict": "completed", "received_at": NOW, "signed_by": "x"},
    )
    job = Job.from_firestore(stored)
    assert job.pricing is not None and job.pricing.model_dump() == {"credits": 2}
    assert job.held_answer is not None and job.held_answer.attempt == 1
    assert "priority" not in job.to_firestore()
    job_type = JobType.from_firestore(
        {
            "worker_url": "https://w.example/",
            "pricing": {"credits_per_unit": 1.5, "max_credits": 10, "unit": "second", "tiers": []},
            "secret": "whsec_x",
            "older_secrets": [{"secret": "whsec_y", "expires_at": NOW, "revoked_by": "ops"}],
            "created_at": NOW,
            "region": "eu",
        }
    )
    assert job_type.older_secrets[0].secret == "whsec_y"
    event = WebhookEvent.from_firestore(
        {
            "user_id": "u1",
            "type": "job.completed",
            "livemode": True,
            "payload": {"any": {"thing": 1}},  # free-form maps keep every key
            "created_at": NOW,
            "priority_lane": "x",
        }
    )
    assert event.payload == {"any": {"thing": 1}}
