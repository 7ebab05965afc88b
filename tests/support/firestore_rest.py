"""Firestore as a client app sees it: the emulator's REST API with a signed-in user's ID token.

The Python server client sends `Authorization: Bearer owner` and bypasses security rules; these calls do not,
so they are how tests check firestore.rules (see shared/docs/emulators.md "Security rules as an end user").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

RULES_FILE = Path(__file__).resolve().parents[2] / "firestore.rules"


def load_rules(firestore_host: str, project: str, rules: str | None = None) -> None:
    """Install security rules for one project on the emulator (the deployed firestore.rules by default)."""
    content = rules if rules is not None else RULES_FILE.read_text()
    response = requests.put(
        f"http://{firestore_host}/emulator/v1/projects/{project}:securityRules",
        json={"rules": {"files": [{"name": "firestore.rules", "content": content}]}},
        timeout=30,
    )
    if response.status_code != 200:
        raise AssertionError(f"the emulator refused the rules: {response.status_code} {response.text}")


def encode_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"nullValue": None}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, dict):
        return {"mapValue": {"fields": encode_fields(value)}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {key: encode_value(value) for key, value in data.items()}


@dataclass(frozen=True)
class ClientFirestore:
    """One end user's view of a project: every call carries `token` (or no Authorization at all if None)."""

    firestore_host: str
    project: str
    token: str | None

    @property
    def database(self) -> str:
        return f"projects/{self.project}/databases/(default)"

    @property
    def base(self) -> str:
        return f"http://{self.firestore_host}/v1/{self.database}/documents"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.request(method, url, json=body, headers=self._headers(), timeout=30)

    def get(self, path: str) -> requests.Response:
        return self._call("GET", f"{self.base}/{path}")

    def list_documents(self, collection: str) -> requests.Response:
        """The ListDocuments call: an unfiltered list, which owner-scoped rules must refuse."""
        return self._call("GET", f"{self.base}/{collection}")

    def query(
        self,
        collection: str,
        *,
        where: list[tuple[str, str, Any]] | None = None,
        order_by: str | None = None,
        all_descendants: bool = False,
    ) -> requests.Response:
        """runQuery over one collection; `where` entries are (field, operator, value), e.g. ("user_id", "EQUAL", uid)."""
        structured: dict[str, Any] = {
            "from": [{"collectionId": collection, "allDescendants": all_descendants}]
        }
        filters: list[dict[str, Any]] = [
            {"fieldFilter": {"field": {"fieldPath": field}, "op": op, "value": encode_value(value)}}
            for field, op, value in (where or [])
        ]
        if len(filters) == 1:
            structured["where"] = filters[0]
        elif filters:
            structured["where"] = {"compositeFilter": {"op": "AND", "filters": filters}}
        if order_by:
            structured["orderBy"] = [{"field": {"fieldPath": order_by}, "direction": "DESCENDING"}]
        return self._call("POST", f"{self.base}:runQuery", {"structuredQuery": structured})

    def create(self, collection: str, document_id: str, data: dict[str, Any]) -> requests.Response:
        return self._call(
            "POST", f"{self.base}/{collection}?documentId={document_id}", {"fields": encode_fields(data)}
        )

    def update(self, path: str, data: dict[str, Any]) -> requests.Response:
        """PATCH with an update mask: changes only these fields (creates the document if it is missing)."""
        mask = "&".join(f"updateMask.fieldPaths={field}" for field in data)
        return self._call("PATCH", f"{self.base}/{path}?{mask}", {"fields": encode_fields(data)})

    def delete(self, path: str) -> requests.Response:
        return self._call("DELETE", f"{self.base}/{path}")

    def commit_increment(self, path: str, field: str, amount: int) -> requests.Response:
        """A batched write with a server-side increment transform (how a client would bump a balance)."""
        write = {
            "transform": {
                "document": f"{self.database}/documents/{path}",
                "fieldTransforms": [{"fieldPath": field, "increment": encode_value(amount)}],
            }
        }
        return self._call("POST", f"{self.base}:commit", {"writes": [write]})


def query_documents(response: requests.Response) -> list[str]:
    """Names (paths below documents/) of the documents a successful runQuery returned."""
    assert response.status_code == 200, response.text
    names = [row["document"]["name"] for row in response.json() if "document" in row]
    return [name.split("/documents/", 1)[1] for name in names]
