from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.job_callback_answer import JobCallbackAnswer
from ...models.job_callback_body import JobCallbackBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    body: JobCallbackBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs/{job_id}/callback".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | JobCallbackAnswer | None:
    if response.status_code == 200:
        response_200 = JobCallbackAnswer.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorEnvelope.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorEnvelope.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | JobCallbackAnswer]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    body: JobCallbackBody | Unset = UNSET,
) -> Response[ErrorEnvelope | JobCallbackAnswer]:
    """A callback worker reports its attempt: a result, an error, or progress (docs/workers.md).

     Authorization: Bearer <callback_token> of the dispatch. A result or an error is applied once: a
    repeat, or a report after the attempt ended (canceled, past its deadline), answers 409 and changes
    nothing; a token that is not the attempt's answers 401.

    Args:
        job_id (str):
        body (JobCallbackBody | Unset): Exactly one of: `result` (with `usage` for a metered
            type), `error` (with `retryable`), `progress`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobCallbackAnswer]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
    body: JobCallbackBody | Unset = UNSET,
) -> ErrorEnvelope | JobCallbackAnswer | None:
    """A callback worker reports its attempt: a result, an error, or progress (docs/workers.md).

     Authorization: Bearer <callback_token> of the dispatch. A result or an error is applied once: a
    repeat, or a report after the attempt ended (canceled, past its deadline), answers 409 and changes
    nothing; a token that is not the attempt's answers 401.

    Args:
        job_id (str):
        body (JobCallbackBody | Unset): Exactly one of: `result` (with `usage` for a metered
            type), `error` (with `retryable`), `progress`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobCallbackAnswer
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    body: JobCallbackBody | Unset = UNSET,
) -> Response[ErrorEnvelope | JobCallbackAnswer]:
    """A callback worker reports its attempt: a result, an error, or progress (docs/workers.md).

     Authorization: Bearer <callback_token> of the dispatch. A result or an error is applied once: a
    repeat, or a report after the attempt ended (canceled, past its deadline), answers 409 and changes
    nothing; a token that is not the attempt's answers 401.

    Args:
        job_id (str):
        body (JobCallbackBody | Unset): Exactly one of: `result` (with `usage` for a metered
            type), `error` (with `retryable`), `progress`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobCallbackAnswer]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
    body: JobCallbackBody | Unset = UNSET,
) -> ErrorEnvelope | JobCallbackAnswer | None:
    """A callback worker reports its attempt: a result, an error, or progress (docs/workers.md).

     Authorization: Bearer <callback_token> of the dispatch. A result or an error is applied once: a
    repeat, or a report after the attempt ended (canceled, past its deadline), answers 409 and changes
    nothing; a token that is not the attempt's answers 401.

    Args:
        job_id (str):
        body (JobCallbackBody | Unset): Exactly one of: `result` (with `usage` for a metered
            type), `error` (with `retryable`), `progress`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobCallbackAnswer
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            body=body,
        )
    ).parsed
