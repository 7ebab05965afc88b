from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credit_grant import CreditGrant
from ...models.empty_body import EmptyBody
from ...models.error_envelope import ErrorEnvelope
from ...types import UNSET, Response, Unset


def _get_kwargs(
    grant_id: str,
    *,
    body: EmptyBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/credit_grants/{grant_id}/void".format(
            grant_id=quote(str(grant_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CreditGrant | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = CreditGrant.from_dict(response.json())

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
) -> Response[CreditGrant | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    grant_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[CreditGrant | ErrorEnvelope]:
    """Void a promotional grant: what is left of it goes, with a `void` ledger entry.

     Once: voiding a voided grant answers it again. Paid grants and expired grants are 409.

    Args:
        grant_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreditGrant | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        grant_id=grant_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    grant_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> CreditGrant | ErrorEnvelope | None:
    """Void a promotional grant: what is left of it goes, with a `void` ledger entry.

     Once: voiding a voided grant answers it again. Paid grants and expired grants are 409.

    Args:
        grant_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreditGrant | ErrorEnvelope
    """

    return sync_detailed(
        grant_id=grant_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    grant_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[CreditGrant | ErrorEnvelope]:
    """Void a promotional grant: what is left of it goes, with a `void` ledger entry.

     Once: voiding a voided grant answers it again. Paid grants and expired grants are 409.

    Args:
        grant_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreditGrant | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        grant_id=grant_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    grant_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> CreditGrant | ErrorEnvelope | None:
    """Void a promotional grant: what is left of it goes, with a `void` ledger entry.

     Once: voiding a voided grant answers it again. Paid grants and expired grants are 409.

    Args:
        grant_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreditGrant | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            grant_id=grant_id,
            client=client,
            body=body,
        )
    ).parsed
