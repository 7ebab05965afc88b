from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.account_limits import AccountLimits
from ...models.admin_account_limits_update import AdminAccountLimitsUpdate
from ...models.error_envelope import ErrorEnvelope
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: str,
    *,
    body: AdminAccountLimitsUpdate | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/admin/users/{user_id}/limits".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AccountLimits | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = AccountLimits.from_dict(response.json())

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
) -> Response[AccountLimits | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: AdminAccountLimitsUpdate | Unset = UNSET,
) -> Response[AccountLimits | ErrorEnvelope]:
    """Override a customer's account-wide live rate limit or jobs in flight.

     Only the fields sent change (null returns one to the default). Every instance applies them within 5
    s. Each key's own limits still apply; test mode keeps its defaults. 404 when the user has no
    account.

    Args:
        user_id (str):
        body (AdminAccountLimitsUpdate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountLimits | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: AdminAccountLimitsUpdate | Unset = UNSET,
) -> AccountLimits | ErrorEnvelope | None:
    """Override a customer's account-wide live rate limit or jobs in flight.

     Only the fields sent change (null returns one to the default). Every instance applies them within 5
    s. Each key's own limits still apply; test mode keeps its defaults. 404 when the user has no
    account.

    Args:
        user_id (str):
        body (AdminAccountLimitsUpdate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountLimits | ErrorEnvelope
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: AdminAccountLimitsUpdate | Unset = UNSET,
) -> Response[AccountLimits | ErrorEnvelope]:
    """Override a customer's account-wide live rate limit or jobs in flight.

     Only the fields sent change (null returns one to the default). Every instance applies them within 5
    s. Each key's own limits still apply; test mode keeps its defaults. 404 when the user has no
    account.

    Args:
        user_id (str):
        body (AdminAccountLimitsUpdate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountLimits | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: AdminAccountLimitsUpdate | Unset = UNSET,
) -> AccountLimits | ErrorEnvelope | None:
    """Override a customer's account-wide live rate limit or jobs in flight.

     Only the fields sent change (null returns one to the default). Every instance applies them within 5
    s. Each key's own limits still apply; test mode keeps its defaults. 404 when the user has no
    account.

    Args:
        user_id (str):
        body (AdminAccountLimitsUpdate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountLimits | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            body=body,
        )
    ).parsed
