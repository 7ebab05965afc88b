"""Request hygiene of shared/api/http.py, on a small app of its own (no emulators needed)."""

from __future__ import annotations

import io
import json
from typing import Any

import flask
import pytest
from pydantic import BaseModel, ConfigDict, Field

from shared.api.http import MAX_BODY_BYTES, MAX_JSON_DEPTH, ApiRequest, HttpApp, Reply, Router
from shared.core.pagination import PageQuery, page_of, page_params


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=20)
    data: dict[str, Any] = Field(default_factory=dict)


router = Router()


@router.add("POST", "/v1/things", auth="none", body=Thing, status=201)
def create_thing(request: ApiRequest) -> Reply:
    return Reply({"name": request.parse(Thing).name}, status=201)


@router.add("GET", "/v1/things", auth="none", query=PageQuery)
def list_things(request: ApiRequest) -> Reply:
    items = [(f"t{n}", n) for n in range(5)]
    return Reply(page_of(items, page_params(request.parsed_query(PageQuery)), lambda _id, n: {"n": n}))


@router.add("GET", "/v1/things/<thing_id>", auth="none")
def get_thing(request: ApiRequest) -> Reply:
    return Reply({"thing_id": request.path_params["thing_id"]})


APP = HttpApp(router.routes, authenticator=lambda request, requirement: None)
FLASK = flask.Flask(__name__)


class ExplodingStream(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def call(method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with FLASK.test_request_context(path, method=method, **kwargs):
        response = APP.handle(flask.request)
        assert response.mimetype == "application/json"
        assert response.headers["Request-Id"].startswith("req_")
        return response.status_code, json.loads(response.get_data())


def post_json(data: bytes | str, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    return call("POST", "/v1/things", data=data, headers={"Content-Type": content_type})


def error(result: tuple[int, dict[str, Any]]) -> tuple[int, str, str | None]:
    status, body = result
    return status, body["error"]["code"], body["error"].get("param")


def test_valid_body_is_parsed_for_the_handler() -> None:
    assert post_json('{"name": "a"}') == (201, {"name": "a"})


def test_413_from_content_length_before_reading() -> None:
    result = call(
        "POST",
        "/v1/things",
        headers={"Content-Type": "application/json"},
        environ_overrides={"CONTENT_LENGTH": str(MAX_BODY_BYTES + 1), "wsgi.input": ExplodingStream()},
    )
    assert error(result) == (413, "request_too_large", None)


def test_413_from_the_bytes_read_when_no_length_is_declared() -> None:
    body = json.dumps({"name": "a", "data": {"x": "y" * MAX_BODY_BYTES}}).encode()
    result = call(
        "POST",
        "/v1/things",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json"},
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert error(result) == (413, "request_too_large", None)


def test_413_on_a_route_without_body_too() -> None:
    result = call("GET", "/v1/things", environ_overrides={"CONTENT_LENGTH": str(10 * MAX_BODY_BYTES)})
    assert error(result)[0] == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_415_for_bodies_that_are_not_json(content_type: str) -> None:
    assert error(post_json('{"name": "a"}', content_type))[:2] == (415, "unsupported_media_type")


def test_unknown_field_is_refused_by_name() -> None:
    assert error(post_json('{"name": "a", "colour": "red"}')) == (400, "parameter_unknown", "colour")


def test_missing_and_invalid_fields_are_named() -> None:
    assert error(post_json("{}")) == (400, "parameter_missing", "name")
    assert error(post_json('{"name": ""}')) == (400, "parameter_invalid", "name")


@pytest.mark.parametrize(
    "data",
    [
        b'{"name": "a"',
        b'{"name": NaN}',
        b'{"name": "a", "data": {"x": Infinity}}',
        b'{"name": "a", "data": {"x": -Infinity}}',
        b"\xff\xfe{}",
        b'{"name": "\xc3\x28"}',
        ("9" * 5000).encode(),
    ],
)
def test_invalid_json_variants(data: bytes) -> None:
    assert error(post_json(data))[:2] == (400, "invalid_json")


def test_duplicate_keys_are_refused() -> None:
    assert error(post_json('{"name": "a", "name": "b"}')) == (400, "invalid_json", "name")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000, 30_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    data = '{"name": "a", "data": {"x": ' + "[" * depth + "]" * depth + "}}"
    assert error(post_json(data))[:2] == (400, "invalid_json")


@pytest.mark.parametrize("data", ["[]", '"x"', "null", "1"])
def test_body_must_be_an_object(data: str) -> None:
    assert error(post_json(data))[:2] == (400, "invalid_request")


def test_huge_number_inside_an_object_is_a_clear_400() -> None:
    status, code, _ = error(post_json('{"name": ' + "1" * 5000 + "}"))
    assert status == 400 and code in ("invalid_json", "parameter_invalid")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=" + "9" * 5000, "limit"),
        ("limit=", "limit"),
        ("limit=1&limit=2", "limit"),
        ("starting_after=nope", "starting_after"),
        ("starting_after=__x__", "starting_after"),
        ("cursor=a%2Fb", "cursor"),
        ("colour=red", "colour"),
        ("%FF=1", "%FF"),
    ],
)
def test_bad_query_parameters_are_named(query: str, param: str) -> None:
    status, code, named = error(call("GET", "/v1/things?" + query))
    assert status == 400 and code.startswith("parameter_") and named == param


def test_pagination_pages_through_with_the_cursor() -> None:
    status, first = call("GET", "/v1/things?limit=2")
    assert status == 200 and first == {"data": [{"n": 0}, {"n": 1}], "has_more": True, "next_cursor": "t1"}
    _, second = call("GET", "/v1/things?limit=100&starting_after=t1")
    assert second == {"data": [{"n": 2}, {"n": 3}, {"n": 4}], "has_more": False, "next_cursor": None}


@pytest.mark.parametrize("thing_id", ["__x__", "..", "a" * 2000, "a.b", "%C3%A9", "%00", "a%0Ab", "-x"])
def test_odd_path_parameters_are_no_such_object(thing_id: str) -> None:
    assert error(call("GET", "/v1/things/" + thing_id)) == (404, "resource_missing", "thing_id")


def test_invalid_utf8_in_path_and_odd_methods_are_json_errors() -> None:
    assert error(call("GET", "/v1/%FF%FE"))[:2] == (404, "route_not_found")
    assert error(call("BREW", "/v1/things"))[:2] == (405, "method_not_allowed")
    assert error(call("PATCH", "/v1/things/x"))[:2] == (405, "method_not_allowed")


def test_huge_and_invalid_utf8_headers_do_not_matter_to_routes_that_ignore_them() -> None:
    headers = {"X-Junk": "\xff" * 20000, "Content-Type": "application/json"}
    assert call("POST", "/v1/things", data='{"name": "a"}', headers=headers)[0] == 201
