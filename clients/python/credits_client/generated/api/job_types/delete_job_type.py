from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.job_type_deleted import JobTypeDeleted
from ...types import Response


def _get_kwargs(
    job_type: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/v1/admin/job_types/{job_type}".format(
            job_type=quote(str(job_type), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | JobTypeDeleted | None:
    if response.status_code == 200:
        response_200 = JobTypeDeleted.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | JobTypeDeleted]:
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
) -> Response[ErrorEnvelope | JobTypeDeleted]:
    """Delete a job type: new jobs of it are refused; queued ones still end by the rules.

    Args:
        job_type (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobTypeDeleted]
    """

    kwargs = _get_kwargs(
        job_type=job_type,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_type: str,
    *,
    client: AuthenticatedClient,
) -> ErrorEnvelope | JobTypeDeleted | None:
    """Delete a job type: new jobs of it are refused; queued ones still end by the rules.

    Args:
        job_type (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobTypeDeleted
    """

    return sync_detailed(
        job_type=job_type,
        client=client,
    ).parsed


async def asyncio_detailed(
    job_type: str,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorEnvelope | JobTypeDeleted]:
    """Delete a job type: new jobs of it are refused; queued ones still end by the rules.

    Args:
        job_type (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobTypeDeleted]
    """

    kwargs = _get_kwargs(
        job_type=job_type,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_type: str,
    *,
    client: AuthenticatedClient,
) -> ErrorEnvelope | JobTypeDeleted | None:
    """Delete a job type: new jobs of it are refused; queued ones still end by the rules.

    Args:
        job_type (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobTypeDeleted
    """

    return (
        await asyncio_detailed(
            job_type=job_type,
            client=client,
        )
    ).parsed
