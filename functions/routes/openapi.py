"""GET /v1/openapi.json: this function's OpenAPI 3.1 description, generated once per instance."""

from __future__ import annotations

from shared.api.http import ApiRequest, Reply, Router
from shared.api.resources import OpenApiDocument

router = Router(tags=("meta",))


@router.add(
    "GET",
    "/v1/openapi.json",
    operation_id="get_openapi_document",
    auth="none",
    summary="The OpenAPI 3.1 description of this API (no authentication, served in maintenance too).",
    response=OpenApiDocument,
)
def openapi_json(request: ApiRequest) -> Reply:
    from functions.routes import openapi_document

    # The servers entry is where this request reached the function, so clients can call it as described.
    server = request.raw.script_root or "/"
    return Reply({**openapi_document(), "servers": [{"url": server}]})
