from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.empty_body import EmptyBody
from ...models.error_envelope import ErrorEnvelope
from ...models.job import Job
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    body: EmptyBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs/{job_id}/cancel".format(
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
) -> ErrorEnvelope | Job | None:
    if response.status_code == 200:
        response_200 = Job.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = ErrorEnvelope.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | Job]:
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
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | Job]:
    """Cancel a queued or running job; its credits come back by the type's cancel_policy.

     The job becomes `canceled` and a `job.canceled` webhook event is sent; a running job's worker is
    sent a cancel notice, and its answer to the dispatch arriving later changes nothing. With the type's
    `cancel_policy: charge_started` a job canceled while running keeps its fixed price (or costs the
    units a metered worker reports); otherwise everything comes back. A completed or failed job answers
    409 (the message names its state); canceling a canceled job answers it again.

    Args:
        job_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Job]
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
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | Job | None:
    """Cancel a queued or running job; its credits come back by the type's cancel_policy.

     The job becomes `canceled` and a `job.canceled` webhook event is sent; a running job's worker is
    sent a cancel notice, and its answer to the dispatch arriving later changes nothing. With the type's
    `cancel_policy: charge_started` a job canceled while running keeps its fixed price (or costs the
    units a metered worker reports); otherwise everything comes back. A completed or failed job answers
    409 (the message names its state); canceling a canceled job answers it again.

    Args:
        job_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Job
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
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | Job]:
    """Cancel a queued or running job; its credits come back by the type's cancel_policy.

     The job becomes `canceled` and a `job.canceled` webhook event is sent; a running job's worker is
    sent a cancel notice, and its answer to the dispatch arriving later changes nothing. With the type's
    `cancel_policy: charge_started` a job canceled while running keeps its fixed price (or costs the
    units a metered worker reports); otherwise everything comes back. A completed or failed job answers
    409 (the message names its state); canceling a canceled job answers it again.

    Args:
        job_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Job]
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
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | Job | None:
    """Cancel a queued or running job; its credits come back by the type's cancel_policy.

     The job becomes `canceled` and a `job.canceled` webhook event is sent; a running job's worker is
    sent a cancel notice, and its answer to the dispatch arriving later changes nothing. With the type's
    `cancel_policy: charge_started` a job canceled while running keeps its fixed price (or costs the
    units a metered worker reports); otherwise everything comes back. A completed or failed job answers
    409 (the message names its state); canceling a canceled job answers it again.

    Args:
        job_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Job
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            body=body,
        )
    ).parsed
