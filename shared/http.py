"""A small HTTP layer for the `api` and `stripe_webhook` functions: routing, JSON bodies, error rendering.

Every response is JSON and carries `Request-Id`. An ApiError renders as `{"error": {...}}` with the status
from ERROR_CODES; any other exception is logged with its trace and becomes a generic 500.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from shared import logs
from shared.errors import ApiError

MAX_BODY_BYTES = 64 * 1024
ModelT = TypeVar("ModelT", bound=BaseModel)


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


@dataclass
class ApiRequest:
    """What a handler sees: the raw Flask request plus what routing and authentication found."""

    raw: flask.Request
    request_id: str
    path_params: dict[str, str]
    principal: Any = None  # set by the authenticator: who is calling
    context: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.raw.headers.get(name)

    def query(self, name: str) -> str | None:
        return self.raw.args.get(name)

    def json_body(self) -> Any:
        data = self.raw.get_data(cache=True)
        if len(data) > MAX_BODY_BYTES:
            raise ApiError("request_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
        if not data.strip():
            return {}
        mimetype = self.raw.mimetype or ""
        if mimetype != "application/json":
            raise ApiError("unsupported_media_type", "Send the request body as application/json.")
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("invalid_json", "The request body is not valid JSON.") from None

    def parse(self, model: type[ModelT]) -> ModelT:
        return parse_model(model, self.json_body())


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    """Validate input against a pydantic model; the first failing field becomes the error's `param`."""
    if not isinstance(data, dict):
        raise ApiError("invalid_request", "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        if first["type"] == "extra_forbidden":
            raise ApiError(
                "parameter_unknown", f"Received unknown parameter: {param}.", param=param
            ) from None
        if first["type"] == "missing":
            raise ApiError(
                "parameter_missing", f"Missing required parameter: {param}.", param=param
            ) from None
        raise ApiError("parameter_invalid", f"Invalid {param}: {first['msg']}.", param=param) from None


Handler = Callable[[ApiRequest], "Reply"]
Authenticator = Callable[[ApiRequest, str], None]


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # werkzeug rule syntax, e.g. /v1/jobs/<job_id>
    handler: Handler
    auth: str  # interpreted by the app's authenticator: "none", "user", "key", "user_or_key", "admin"
    summary: str = ""


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, auth: str, summary: str = "") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, path, handler, auth, summary))
            return handler

        return register

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)


def json_response(
    body: Any, status: int, request_id: str, headers: dict[str, str] | None = None
) -> flask.Response:
    response = flask.Response(
        json.dumps(body, default=_json_default, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers["Request-Id"] = request_id
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _json_default(value: Any) -> Any:
    from datetime import datetime
    from enum import Enum

    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error_response(error: ApiError, request_id: str) -> flask.Response:
    return json_response(error.body(), error.status, request_id, error.headers)


class HttpApp:
    """Dispatches one Flask request to a route, with authentication and uniform error rendering."""

    def __init__(
        self,
        routes: list[Route],
        authenticator: Authenticator,
        before: Callable[[ApiRequest, Route], None] | None = None,
    ) -> None:
        self._routes = {(r.method, r.path): r for r in routes}
        self._map = Map(
            [Rule(r.path, methods=[r.method], endpoint=(r.method, r.path)) for r in routes],
            strict_slashes=False,
        )
        self._authenticator = authenticator
        self._before = before

    def handle(self, request: flask.Request) -> flask.Response:
        started = time.monotonic()
        request_id = new_request_id()
        response = self._respond(request, request_id)
        logs.request_log(request, response.status_code, time.monotonic() - started, request_id)
        return response

    def _respond(self, request: flask.Request, request_id: str) -> flask.Response:
        try:
            route, params = self._match(request)
            api_request = ApiRequest(raw=request, request_id=request_id, path_params=params)
            if self._before is not None:
                self._before(api_request, route)
            self._authenticator(api_request, route.auth)
            reply = route.handler(api_request)
            return json_response(reply.body, reply.status, request_id, reply.headers)
        except ApiError as exc:
            return error_response(exc, request_id)
        except Exception as exc:
            logs.exception("unhandled error", exc, request_id=request_id, path=request.path)
            return error_response(ApiError("internal_error", "An internal error occurred."), request_id)

    def _match(self, request: flask.Request) -> tuple[Route, dict[str, str]]:
        adapter = self._map.bind("api", path_info=request.path or "/")
        try:
            endpoint, params = adapter.match(request.path or "/", method=request.method)
        except MethodNotAllowed:
            raise ApiError(
                "method_not_allowed", f"{request.method} is not allowed on {request.path}."
            ) from None
        except NotFound:
            raise ApiError(
                "route_not_found", f"Unrecognized request URL ({request.method} {request.path})."
            ) from None
        except Exception:
            raise ApiError(
                "route_not_found", f"Unrecognized request URL ({request.method} {request.path})."
            ) from None
        return self._routes[endpoint], {k: str(v) for k, v in params.items()}
