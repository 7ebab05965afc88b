"""A small HTTP layer for the `api` and `stripe_webhook` functions: routing, JSON bodies, error rendering.

Every response is JSON and carries `Request-Id`. An ApiError renders as `{"error": {...}}` with the status
from ERROR_CODES; any other exception is logged with its trace and becomes a generic 500.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from shared.core import logs
from shared.core.errors import ApiError, ErrorCode

MAX_BODY_BYTES = 64 * 1024
# Responses that carry a plaintext credential (an API key, a webhook signing secret): no cache or proxy may
# keep a copy.
NO_STORE = {"Cache-Control": "no-store"}
MAX_JSON_DEPTH = 32
# Path parameters name documents: anything else is refused as "no such object" before a database sees it
# (Firestore refuses ids like `__x__`, `.`, `..` or over 1500 bytes with an error, not a miss).
PATH_PARAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
_PATH_PARAM = re.compile(PATH_PARAM_PATTERN)
ModelT = TypeVar("ModelT", bound=BaseModel)


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


class EmptyBody(BaseModel):
    """The body of a POST that takes no parameters: absent, or `{}`."""

    model_config = ConfigDict(extra="forbid", title="EmptyBody")


class NoQuery(BaseModel):
    """The query of a route that takes no query parameters: any parameter is refused by name."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class ApiRequest:
    """What a handler sees: the raw Flask request plus what routing, authentication and the route's
    declared body and query models found."""

    raw: flask.Request
    request_id: str
    path_params: dict[str, str]
    principal: Any = None  # set by the authenticator: who is calling
    context: dict[str, Any] = field(default_factory=dict)
    body: BaseModel | None = None  # the route's `body=` model, parsed before the handler runs
    query_params: BaseModel | None = None  # the route's `query=` model, parsed before the handler runs
    # Added to whatever this request answers, errors included (e.g. the RateLimit header fields).
    response_headers: dict[str, str] = field(default_factory=dict)
    _data: bytes | None = None

    def header(self, name: str) -> str | None:
        return self.raw.headers.get(name)

    def query(self, name: str) -> str | None:
        return self.raw.args.get(name)

    def raw_body(self) -> bytes:
        """The body, read at most once and never past MAX_BODY_BYTES (chunked bodies have no length)."""
        if self._data is None:
            self._data = read_bounded(self.raw, MAX_BODY_BYTES)
        return self._data

    def json_body(self) -> Any:
        data = self.raw_body()
        if not data.strip():
            return {}
        mimetype = self.raw.mimetype or ""
        if mimetype != "application/json":
            raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the request body as application/json.")
        return decode_json(data)

    def parse(self, model: type[ModelT]) -> ModelT:
        """The body as `model`: the one the framework parsed for the route's `body=`, or parsed now."""
        if isinstance(self.body, model):
            return self.body
        parsed = parse_model(model, self.json_body())
        self.body = parsed
        return parsed

    def parsed_query(self, model: type[ModelT]) -> ModelT:
        if isinstance(self.query_params, model):
            return self.query_params
        parsed = parse_query(model, self.raw)
        self.query_params = parsed
        return parsed


def too_large(limit: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(ErrorCode.REQUEST_TOO_LARGE, f"Request bodies are limited to {limit} bytes.")


def refuse_declared_oversize(request: flask.Request, limit: int = MAX_BODY_BYTES) -> None:
    """413 from Content-Length alone, before a byte of the body is read."""
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)


def read_bounded(request: flask.Request, limit: int) -> bytes:
    """The body, never reading more than limit + 1 bytes (chunked bodies declare no length): a huge body
    costs the reader no more memory than the limit."""
    refuse_declared_oversize(request, limit)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """Nesting depth without recursion (the parser already bounded it; this keeps the check cheap)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def decode_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, at most MAX_JSON_DEPTH levels."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except _DuplicateKey as exc:
        raise ApiError(
            ErrorCode.INVALID_JSON,
            f"The request body repeats the key {exc.args[0]!r}.",
            param=str(exc.args[0]),
        ) from None
    except RecursionError:
        raise ApiError(
            ErrorCode.INVALID_JSON, f"JSON is limited to {MAX_JSON_DEPTH} levels of nesting."
        ) from None
    except ValueError:  # includes UnicodeDecodeError and integers past Python's digit limit
        raise ApiError(ErrorCode.INVALID_JSON, "The request body is not valid JSON.") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ApiError(ErrorCode.INVALID_JSON, f"JSON is limited to {MAX_JSON_DEPTH} levels of nesting.")
    return value


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    """Validate input against a pydantic model; the first failing field becomes the error's `param`."""
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.INVALID_REQUEST, "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def validation_error(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False)
    # An unknown field is named first: it is often a misspelling that also explains a "missing" one.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    param = ".".join(str(p) for p in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        return ApiError(ErrorCode.PARAMETER_UNKNOWN, f"Received unknown parameter: {param}.", param=param)
    if first["type"] == "missing":
        return ApiError(ErrorCode.PARAMETER_MISSING, f"Missing required parameter: {param}.", param=param)
    return ApiError(ErrorCode.PARAMETER_INVALID, f"Invalid {param}: {first['msg']}.", param=param)


def parse_query(model: type[ModelT], request: flask.Request) -> ModelT:
    """Query parameters against the route's model: unknown ones and repeated ones are refused by name."""
    values: dict[str, str] = {}
    for name, items in request.args.lists():
        if len(items) > 1:
            raise ApiError(ErrorCode.PARAMETER_INVALID, f"{name} is given more than once.", param=name)
        values[name] = items[0]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise validation_error(exc) from None


Handler = Callable[[ApiRequest], "Reply"]
Authenticator = Callable[[ApiRequest, str], None]


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One operation, declared once: the framework validates with these models and the OpenAPI
    description (shared/api/openapi.py) is generated from them."""

    method: str
    path: str  # werkzeug rule syntax, e.g. /v1/jobs/<job_id>
    handler: Handler
    auth: str  # interpreted by the app's authenticator: "none", "user", "key", "user_or_key", "admin"
    summary: str = ""
    body: type[BaseModel] | None = None  # JSON body model; parsed before the handler (request.parse)
    query: type[BaseModel] = NoQuery  # query parameters model; parsed before the handler
    response: type[BaseModel] | None = None  # the resource answered on success
    status: int = 200  # the success status
    also: tuple[int, ...] = ()  # other success statuses, e.g. 200 when an idempotent create repeats
    errors: tuple[ErrorCode, ...] = ()  # error codes the handler itself may answer
    tags: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()  # request headers the route reads, e.g. "Idempotency-Key"
    required_headers: tuple[str, ...] = ()  # those of them it refuses to go without (400 parameter_missing)
    description: str = ""
    operation_id: str = ""  # the OpenAPI operationId: clients' method names (snake_case verb_object)

    @property
    def path_param_names(self) -> list[str]:
        return re.findall(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>", self.path)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", self.path)


class Router:
    def __init__(self, tags: tuple[str, ...] = ()) -> None:
        self.routes: list[Route] = []
        self.tags = tags

    def add(
        self,
        method: str,
        path: str,
        auth: str,
        summary: str = "",
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] = NoQuery,
        response: type[BaseModel] | None = None,
        status: int = 200,
        also: tuple[int, ...] = (),
        errors: tuple[ErrorCode, ...] = (),
        tags: tuple[str, ...] = (),
        headers: tuple[str, ...] = (),
        required_headers: tuple[str, ...] = (),
        description: str = "",
        operation_id: str = "",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method,
                    path,
                    handler,
                    auth,
                    summary,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    also=also,
                    errors=errors,
                    tags=tags or self.tags,
                    headers=(*headers, *(h for h in required_headers if h not in headers)),
                    required_headers=required_headers,
                    description=description or (handler.__doc__ or "").strip(),
                    operation_id=operation_id
                    or f"{handler.__module__.rsplit('.', 1)[-1]}_{handler.__name__}",
                )
            )
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


def serve(request: flask.Request, reply: Callable[[flask.Request, str], Reply]) -> flask.Response:
    """The one HTTP path of every HTTP function (`api`, `stripe_webhook`): a request id, the reply as JSON,
    an ApiError as its JSON error, anything else logged with its trace and answered as a generic 500 (the
    caller, e.g. Stripe, retries later), and one request log line."""
    started = time.monotonic()
    request_id = new_request_id()
    try:
        result = reply(request, request_id)
        response = json_response(result.body, result.status, request_id, result.headers)
    except ApiError as exc:
        if exc.status >= 500:
            logs.error("request failed", code=exc.code.value, request_id=request_id, path=request.path)
        response = error_response(exc, request_id)
    except Exception as exc:
        logs.exception("unhandled error", exc, request_id=request_id, path=request.path)
        response = error_response(
            ApiError(ErrorCode.INTERNAL_ERROR, "An internal error occurred."), request_id
        )
    logs.request_log(request, response.status_code, time.monotonic() - started, request_id)
    return response


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
        matched: list[ApiRequest] = []
        response = serve(request, lambda raw, request_id: self._reply(raw, request_id, matched))
        # Headers the request earned on the way (e.g. RateLimit after authentication) go on every answer,
        # errors included; the handler's own headers win.
        for api_request in matched:
            for name, value in api_request.response_headers.items():
                if name not in response.headers:
                    response.headers[name] = value
        return response

    def _reply(self, request: flask.Request, request_id: str, matched: list[ApiRequest]) -> Reply:
        refuse_declared_oversize(request)
        route, params = self._match(request)
        api_request = ApiRequest(raw=request, request_id=request_id, path_params=params)
        matched.append(api_request)
        if self._before is not None:
            self._before(api_request, route)
        self._authenticator(api_request, route.auth)
        for name, value in params.items():
            if not _PATH_PARAM.fullmatch(value):
                raise ApiError(ErrorCode.RESOURCE_MISSING, f"No such object: {name}.", param=name)
        api_request.query_params = parse_query(route.query, request)
        if route.body is not None:
            api_request.body = parse_model(route.body, api_request.json_body())
        return route.handler(api_request)

    def _match(self, request: flask.Request) -> tuple[Route, dict[str, str]]:
        adapter = self._map.bind("api", path_info=request.path or "/")
        try:
            endpoint, params = adapter.match(request.path or "/", method=request.method)
        except MethodNotAllowed:
            raise ApiError(
                ErrorCode.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on {request.path}."
            ) from None
        except NotFound:
            raise ApiError(
                ErrorCode.ROUTE_NOT_FOUND, f"Unrecognized request URL ({request.method} {request.path})."
            ) from None
        except Exception:
            raise ApiError(
                ErrorCode.ROUTE_NOT_FOUND, f"Unrecognized request URL ({request.method} {request.path})."
            ) from None
        return self._routes[endpoint], {k: str(v) for k, v in params.items()}
