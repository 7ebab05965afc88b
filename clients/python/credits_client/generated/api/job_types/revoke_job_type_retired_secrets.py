from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.empty_body import EmptyBody
from ...models.error_envelope import ErrorEnvelope
from ...models.job_type import JobType
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_type: str,
    *,
    body: EmptyBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/job_types/{job_type}/revoke_retired_secrets".format(
            job_type=quote(str(job_type), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | JobType | None:
    if response.status_code == 200:
        response_200 = JobType.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

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
) -> Response[ErrorEnvelope | JobType]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_type: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | JobType]:
    """Stop every retired worker secret signing now (before its 24 h); the current secret stays.

     For a secret that leaked: rotate, then revoke the retired ones once the worker has the new secret.
    At most 5 retired secrets sign at any time.

    Args:
        job_type (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobType]
    """

    kwargs = _get_kwargs(
        job_type=job_type,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_type: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | JobType | None:
    """Stop every retired worker secret signing now (before its 24 h); the current secret stays.

     For a secret that leaked: rotate, then revoke the retired ones once the worker has the new secret.
    At most 5 retired secrets sign at any time.

    Args:
        job_type (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobType
    """

    return sync_detailed(
        job_type=job_type,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    job_type: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | JobType]:
    """Stop every retired worker secret signing now (before its 24 h); the current secret stays.

     For a secret that leaked: rotate, then revoke the retired ones once the worker has the new secret.
    At most 5 retired secrets sign at any time.

    Args:
        job_type (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobType]
    """

    kwargs = _get_kwargs(
        job_type=job_type,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_type: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | JobType | None:
    """Stop every retired worker secret signing now (before its 24 h); the current secret stays.

     For a secret that leaked: rotate, then revoke the retired ones once the worker has the new secret.
    At most 5 retired secrets sign at any time.

    Args:
        job_type (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobType
    """

    return (
        await asyncio_detailed(
            job_type=job_type,
            client=client,
            body=body,
        )
    ).parsed
