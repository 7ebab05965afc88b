"""The OpenAPI 3.1 description of the `api` function, generated from the routes' declarations.

Request bodies and query parameters come from the same pydantic models the framework validates with
(shared/api/http.py), responses from the resource models (shared/api/resources.py), and every route's error
statuses from what the framework itself checks (size, media type, authentication, maintenance, path
parameters) plus the error codes the route declares, each mapped to its status by shared/core/errors.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api.auth_gate import exempt_from_maintenance
from shared.api.http import MAX_BODY_BYTES, PATH_PARAM_PATTERN, Route
from shared.api.resources import ErrorEnvelope
from shared.core.errors import ERROR_CODES, ErrorCode
from shared.core.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER

REF_TEMPLATE = "#/components/schemas/{model}"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "sk_live_... or sk_test_...",
        "description": (
            "An API key: `Authorization: Bearer sk_live_...` (or sk_test_ for test data). A test key reads and"
            " changes test-mode things only: its jobs are test jobs, it sees the test-mode balance (0), no"
            " cards, no ledger entries, only the delivery attempts of test-mode events and only test keys'"
            " usage, and it cannot replace or delete the webhook endpoint (403 livemode_required)."
        ),
    },
    "FirebaseIdToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "A signed-in user's Firebase ID token; refused once the user is disabled, deleted or signed out"
            " everywhere (checked against the user's record, cached for 10 s)."
        ),
    },
    "AdminIdToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Firebase ID token carrying the custom claim `admin: true`.",
    },
    "CallbackToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "cbt_...",
        "description": "The `callback_token` of the job's running attempt, from its dispatch (docs/workers.md).",
    },
}
SECURITY_BY_AUTH: dict[str, list[dict[str, list[str]]]] = {
    "none": [],
    "key": [{"ApiKey": []}],
    "user": [{"FirebaseIdToken": []}],
    "user_or_key": [{"ApiKey": []}, {"FirebaseIdToken": []}],
    "admin": [{"AdminIdToken": []}],
    "callback": [{"CallbackToken": []}],
}
# Routes without a per-key limiter: their answers carry no RateLimit fields (but a 429's).
UNMETERED_AUTH = frozenset({"none", "callback"})
AUTH_ERRORS: dict[str, tuple[ErrorCode, ...]] = {
    "none": (),
    "callback": (ErrorCode.INVALID_CALLBACK_TOKEN,),
    "key": (
        ErrorCode.MISSING_API_KEY,
        ErrorCode.INVALID_API_KEY,
        ErrorCode.API_KEY_REVOKED,
        ErrorCode.API_KEY_EXPIRED,
    ),
    "user": (ErrorCode.MISSING_ID_TOKEN, ErrorCode.INVALID_ID_TOKEN, ErrorCode.USER_TOKEN_REQUIRED),
    "user_or_key": (
        ErrorCode.MISSING_API_KEY,
        ErrorCode.INVALID_API_KEY,
        ErrorCode.API_KEY_REVOKED,
        ErrorCode.API_KEY_EXPIRED,
        ErrorCode.INVALID_ID_TOKEN,
    ),
    "admin": (
        ErrorCode.MISSING_ID_TOKEN,
        ErrorCode.INVALID_ID_TOKEN,
        ErrorCode.USER_TOKEN_REQUIRED,
        ErrorCode.ADMIN_REQUIRED,
    ),
}
BODY_ERRORS = (
    ErrorCode.INVALID_JSON,
    ErrorCode.INVALID_REQUEST,
    ErrorCode.PARAMETER_INVALID,
    ErrorCode.PARAMETER_MISSING,
    ErrorCode.PARAMETER_UNKNOWN,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
)
QUERY_ERRORS = (ErrorCode.PARAMETER_INVALID, ErrorCode.PARAMETER_UNKNOWN)
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Invalid request",
    401: "Not authenticated",
    402: "Not enough credits",
    403: "Not allowed",
    404: "No such object",
    409: "Conflict with the object's state",
    413: "Request body too large",
    415: "Request body is not JSON",
    429: "Too many requests",
    502: "Stripe failed",
    503: "Unavailable (maintenance mode, or retry shortly)",
}
REQUEST_ID_HEADER = {
    "Request-Id": {
        "description": "Identifies this request in the logs.",
        "required": True,
        "schema": {"type": "string", "pattern": "^req_"},
    }
}


RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": 'The caller\'s rate limit (IETF RateLimit header fields draft): `"key";q=<requests>;w=1` '
        'per API key, `"user";q=...;w=1` per signed-in user; on a 429 the policy that refused it, which may '
        'also be `"account"` (all of an account\'s keys of one mode) or `"address"` (public routes and failed '
        "authentication, per client address).",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it: `"key";r=<remaining>;t=<seconds until full>`.',
        "schema": {"type": "string"},
    },
}
RETRY_AFTER_HEADER: dict[str, dict[str, Any]] = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}
}


def error_codes(route: Route) -> list[ErrorCode]:
    """Every error code the route can answer, in ERROR_CODES order."""
    codes = {ErrorCode.REQUEST_TOO_LARGE, *QUERY_ERRORS, *AUTH_ERRORS[route.auth], *route.errors}
    if not exempt_from_maintenance(route):
        codes.add(ErrorCode.MAINTENANCE_MODE)
    if route.body is not None:
        codes.update(BODY_ERRORS)
    if route.path_param_names:
        codes.add(ErrorCode.RESOURCE_MISSING)
    if IDEMPOTENCY_HEADER in route.headers:
        codes.add(ErrorCode.PARAMETER_INVALID)
    if route.required_headers:
        codes.add(ErrorCode.PARAMETER_MISSING)
    # Every route: public ones and failed authentication are limited per client address, the rest per key,
    # account or user too (docs/rate-limits.md).
    codes.add(ErrorCode.RATE_LIMITED)
    return [code for code in ERROR_CODES if code in codes]


def error_statuses(route: Route) -> dict[int, list[ErrorCode]]:
    by_status: dict[int, list[ErrorCode]] = {}
    for code in error_codes(route):
        by_status.setdefault(ERROR_CODES[code][1], []).append(code)
    return dict(sorted(by_status.items()))


def _error_response(status: int, codes: list[ErrorCode], limited: bool) -> dict[str, Any]:
    headers = dict(REQUEST_ID_HEADER)
    if limited:
        headers.update(RATE_LIMIT_HEADERS)
    if {"maintenance_mode", "rate_limited", "too_many_jobs_in_flight"} & set(codes):
        headers.update(RETRY_AFTER_HEADER)
    examples = {
        code.value: {
            "value": {
                "error": {
                    "type": ERROR_CODES[code][0].value,
                    "code": code.value,
                    "message": f"Example message for {code}.",
                    **({"param": "limit"} if code.startswith("parameter_") else {}),
                }
            }
        }
        for code in codes
    }
    return {
        "description": f"{STATUS_TEXT.get(status, 'Error')}: " + ", ".join(codes),
        "headers": headers,
        "content": {
            "application/json": {
                "schema": {"$ref": REF_TEMPLATE.format(model="ErrorEnvelope")},
                "examples": examples,
            }
        },
    }


def _body_required(model: type[BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = copy.deepcopy(prop)
        # An absent parameter is the null: a query string has no null to send.
        options = prop.pop("anyOf", None)
        if options is not None:
            non_null = [option for option in options if option.get("type") != "null"]
            prop.update(non_null[0] if len(non_null) == 1 else {"anyOf": non_null})
        if prop.get("default", 0) is None:
            prop.pop("default")
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _collect_schemas(routes: Iterable[Route]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorEnvelope, "serialization")]
    for route in routes:
        for model, mode in (
            (route.body, "validation"),
            (route.query, "validation"),
            (route.response, "serialization"),
        ):
            if model is not None and (model, mode) not in wanted:
                wanted.append((model, mode))  # type: ignore[arg-type]
    refs, top = models_json_schema(wanted, ref_template=REF_TEMPLATE)
    return dict(refs), dict(top.get("$defs", {}))


def client_name(name: str) -> str:
    """The schema's name as clients' types read it: `JobResource` is `Job`, pydantic's `Page_JobResource_`
    is `JobPage`."""
    inner = re.fullmatch(r"Page_(\w+?)_", name)
    if inner:
        return client_name(inner.group(1)) + "Page"
    if name.endswith("Resource") and name != "Resource":
        return name.removesuffix("Resource")
    return name


def _refs_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                REF_TEMPLATE.format(model=names[value.rsplit("/", 1)[-1]])
                if key == "$ref" and isinstance(value, str)
                else _rename_refs(value, names)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, names) for item in node]
    return node


def _title_nullable_members(name: str, schema: dict[str, Any]) -> None:
    """An optional object or enum property (`anyOf: [{...}, {type: null}]`) gets a title, so generators name
    its type `JobResult` rather than `JobResultType0`."""
    for prop_name, prop in schema.get("properties", {}).items():
        members = [m for m in prop.get("anyOf", []) if m.get("type") != "null"]
        if (
            len(members) == 1
            and "$ref" not in members[0]
            and "title" not in members[0]
            and (members[0].get("type") == "object" or "enum" in members[0])
        ):
            # Generators put the parent's name in front: `Job` + `Result`.
            members[0]["title"] = "".join(part.title() for part in prop_name.split("_"))


def client_facing_schemas(
    paths: dict[str, Any], components: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the schemas the operations use (query models are inlined as parameters), under the names
    clients' types get (client_name), in the order pydantic produced them."""
    used: set[str] = set()
    pending = list(_refs_in(paths))
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending.extend(_refs_in(components[name]))
    kept = [name for name in components if name in used]
    names: dict[str, str] = {}
    for name in kept:
        # A name another schema already has stays as it was.
        wanted = client_name(name)
        names[name] = wanted if wanted not in names.values() and wanted not in components else name
    renamed = {names[name]: _rename_refs(components[name], names) for name in kept}
    for name, schema in renamed.items():
        if "title" in schema:  # generators name types after the title when there is one
            schema["title"] = name
        _title_nullable_members(name, schema)
    return _rename_refs(paths, names), renamed


def _definition(ref: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    name = str(ref["$ref"]).rsplit("/", 1)[-1]
    return dict(components[name])


def build_openapi(routes: list[Route], *, title: str, version: str) -> dict[str, Any]:
    refs, components = _collect_schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": list(route.tags),
            "security": SECURITY_BY_AUTH[route.auth],
        }
        if route.description:
            operation["description"] = route.description
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": PATH_PARAM_PATTERN},
            }
            for name in route.path_param_names
        ]
        query_schema = _definition(refs[(route.query, "validation")], components)
        parameters += _query_parameters(route.query, query_schema)
        if IDEMPOTENCY_HEADER in route.headers:
            parameters.append(
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": IDEMPOTENCY_HEADER in route.required_headers,
                    "description": "Repeating a request with the same key answers the first result.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            operation["requestBody"] = {
                "required": _body_required(route.body),
                "description": f"JSON (application/json), at most {MAX_BODY_BYTES} bytes; unknown fields are refused.",
                "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
            }
        responses: dict[str, Any] = {}
        success_schema = (
            refs[(route.response, "serialization")] if route.response is not None else {"type": "object"}
        )
        for status in (route.status, *route.also):
            headers = dict(REQUEST_ID_HEADER)
            if route.auth not in UNMETERED_AUTH:
                headers.update(RATE_LIMIT_HEADERS)
            if IDEMPOTENCY_HEADER in route.headers:
                headers[REPLAYED_HEADER] = {
                    "description": "`true` when this answers an earlier request with the same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            responses[str(status)] = {
                "description": STATUS_TEXT.get(status, "Success"),
                "headers": headers,
                "content": {"application/json": {"schema": success_schema}},
            }
        for status, codes in error_statuses(route).items():
            # Authentication failures are answered before the key's limiter runs: no RateLimit fields on 401;
            # a 429 always has them (the key's, account's, user's or client address's).
            limited = (route.auth not in UNMETERED_AUTH and status != 401) or status == 429
            responses[str(status)] = _error_response(status, codes, limited)
        operation["responses"] = responses
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    paths, schemas = client_facing_schemas(paths, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                'Conventions: docs/api-conventions.md. Errors are `{"error": {type, code, message, param}}`.'
                " Test keys never touch live data (docs/security.md). Responses that carry a plaintext API key,"
                " webhook secret or worker secret have `Cache-Control: no-store`."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
