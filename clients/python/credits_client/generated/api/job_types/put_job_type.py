from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.job_type import JobType
from ...models.job_type_input import JobTypeInput
from ...types import Response


def _get_kwargs(
    job_type: str,
    *,
    body: JobTypeInput,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/admin/job_types/{job_type}".format(
            job_type=quote(str(job_type), safe=""),
        ),
    }

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

    if response.status_code == 201:
        response_201 = JobType.from_dict(response.json())

        return response_201

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
    body: JobTypeInput,
) -> Response[ErrorEnvelope | JobType]:
    """Create or replace a job type; on creation the answer holds its worker_secret, once.

     201 with `worker_secret` when created (also over a deleted type, or over a type without a worker),
    200 when replaced (the secret is kept). The worker_url is checked as webhook URLs are (https in
    production, no private addresses).

    Args:
        job_type (str):
        body (JobTypeInput):

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
    body: JobTypeInput,
) -> ErrorEnvelope | JobType | None:
    """Create or replace a job type; on creation the answer holds its worker_secret, once.

     201 with `worker_secret` when created (also over a deleted type, or over a type without a worker),
    200 when replaced (the secret is kept). The worker_url is checked as webhook URLs are (https in
    production, no private addresses).

    Args:
        job_type (str):
        body (JobTypeInput):

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
    body: JobTypeInput,
) -> Response[ErrorEnvelope | JobType]:
    """Create or replace a job type; on creation the answer holds its worker_secret, once.

     201 with `worker_secret` when created (also over a deleted type, or over a type without a worker),
    200 when replaced (the secret is kept). The worker_url is checked as webhook URLs are (https in
    production, no private addresses).

    Args:
        job_type (str):
        body (JobTypeInput):

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
    body: JobTypeInput,
) -> ErrorEnvelope | JobType | None:
    """Create or replace a job type; on creation the answer holds its worker_secret, once.

     201 with `worker_secret` when created (also over a deleted type, or over a type without a worker),
    200 when replaced (the secret is kept). The worker_url is checked as webhook URLs are (https in
    production, no private addresses).

    Args:
        job_type (str):
        body (JobTypeInput):

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
