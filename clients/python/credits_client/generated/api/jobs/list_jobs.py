from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.job_list_item_page import JobListItemPage
from ...models.job_status import JobStatus
from ...models.list_jobs_expand_item import ListJobsExpandItem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 10,
    starting_after: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    expand: list[ListJobsExpandItem] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["starting_after"] = starting_after

    params["cursor"] = cursor

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_expand: list[str] | Unset = UNSET
    if not isinstance(expand, Unset):
        json_expand = []
        for expand_item_data in expand:
            expand_item = expand_item_data.value
            json_expand.append(expand_item)

    params["expand[]"] = json_expand

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | JobListItemPage | None:
    if response.status_code == 200:
        response_200 = JobListItemPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = ErrorEnvelope.from_dict(response.json())

        return response_413

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
) -> Response[ErrorEnvelope | JobListItemPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    starting_after: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    expand: list[ListJobsExpandItem] | Unset = UNSET,
) -> Response[ErrorEnvelope | JobListItemPage]:
    """The caller's jobs, newest first, cursor-paginated.

     Items leave out `input` and `result` unless `expand[]=data.input` / `expand[]=data.result` asks for
    them (GET /v1/jobs/{job_id} always has both): a page of 100 full jobs could be 13 MB. With expand[],
    `limit` is at most 20.

    Args:
        limit (int | Unset):  Default: 10.
        starting_after (str | Unset):
        cursor (str | Unset):
        status (JobStatus | Unset): A job's state: queued and running move on; completed, failed
            and canceled are terminal (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
        expand (list[ListJobsExpandItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobListItemPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        starting_after=starting_after,
        cursor=cursor,
        status=status,
        expand=expand,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    starting_after: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    expand: list[ListJobsExpandItem] | Unset = UNSET,
) -> ErrorEnvelope | JobListItemPage | None:
    """The caller's jobs, newest first, cursor-paginated.

     Items leave out `input` and `result` unless `expand[]=data.input` / `expand[]=data.result` asks for
    them (GET /v1/jobs/{job_id} always has both): a page of 100 full jobs could be 13 MB. With expand[],
    `limit` is at most 20.

    Args:
        limit (int | Unset):  Default: 10.
        starting_after (str | Unset):
        cursor (str | Unset):
        status (JobStatus | Unset): A job's state: queued and running move on; completed, failed
            and canceled are terminal (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
        expand (list[ListJobsExpandItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobListItemPage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        starting_after=starting_after,
        cursor=cursor,
        status=status,
        expand=expand,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    starting_after: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    expand: list[ListJobsExpandItem] | Unset = UNSET,
) -> Response[ErrorEnvelope | JobListItemPage]:
    """The caller's jobs, newest first, cursor-paginated.

     Items leave out `input` and `result` unless `expand[]=data.input` / `expand[]=data.result` asks for
    them (GET /v1/jobs/{job_id} always has both): a page of 100 full jobs could be 13 MB. With expand[],
    `limit` is at most 20.

    Args:
        limit (int | Unset):  Default: 10.
        starting_after (str | Unset):
        cursor (str | Unset):
        status (JobStatus | Unset): A job's state: queued and running move on; completed, failed
            and canceled are terminal (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
        expand (list[ListJobsExpandItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | JobListItemPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        starting_after=starting_after,
        cursor=cursor,
        status=status,
        expand=expand,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 10,
    starting_after: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    expand: list[ListJobsExpandItem] | Unset = UNSET,
) -> ErrorEnvelope | JobListItemPage | None:
    """The caller's jobs, newest first, cursor-paginated.

     Items leave out `input` and `result` unless `expand[]=data.input` / `expand[]=data.result` asks for
    them (GET /v1/jobs/{job_id} always has both): a page of 100 full jobs could be 13 MB. With expand[],
    `limit` is at most 20.

    Args:
        limit (int | Unset):  Default: 10.
        starting_after (str | Unset):
        cursor (str | Unset):
        status (JobStatus | Unset): A job's state: queued and running move on; completed, failed
            and canceled are terminal (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
        expand (list[ListJobsExpandItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | JobListItemPage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            starting_after=starting_after,
            cursor=cursor,
            status=status,
            expand=expand,
        )
    ).parsed
