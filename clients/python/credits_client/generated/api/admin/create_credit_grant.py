from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credit_grant import CreditGrant
from ...models.credit_grant_input import CreditGrantInput
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    user_id: str,
    *,
    body: CreditGrantInput,
    idempotency_key: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/users/{user_id}/credit_grants".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

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

    if response.status_code == 201:
        response_201 = CreditGrant.from_dict(response.json())

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
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: CreditGrantInput,
    idempotency_key: str,
) -> Response[CreditGrant | ErrorEnvelope]:
    """Grant a customer credits, paid or promotional, with an optional expiry and priority.

     Effective at once, with a `grant` ledger entry; a debt is paid from it first (docs/credits.md).
    `Idempotency-Key` is required: a repeat with the same key answers 200 with the same grant; the same
    key with another body is 409 `idempotency_key_in_use`. 404 when the user has no account.

    Args:
        user_id (str):
        idempotency_key (str):
        body (CreditGrantInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreditGrant | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: CreditGrantInput,
    idempotency_key: str,
) -> CreditGrant | ErrorEnvelope | None:
    """Grant a customer credits, paid or promotional, with an optional expiry and priority.

     Effective at once, with a `grant` ledger entry; a debt is paid from it first (docs/credits.md).
    `Idempotency-Key` is required: a repeat with the same key answers 200 with the same grant; the same
    key with another body is 409 `idempotency_key_in_use`. 404 when the user has no account.

    Args:
        user_id (str):
        idempotency_key (str):
        body (CreditGrantInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreditGrant | ErrorEnvelope
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: CreditGrantInput,
    idempotency_key: str,
) -> Response[CreditGrant | ErrorEnvelope]:
    """Grant a customer credits, paid or promotional, with an optional expiry and priority.

     Effective at once, with a `grant` ledger entry; a debt is paid from it first (docs/credits.md).
    `Idempotency-Key` is required: a repeat with the same key answers 200 with the same grant; the same
    key with another body is 409 `idempotency_key_in_use`. 404 when the user has no account.

    Args:
        user_id (str):
        idempotency_key (str):
        body (CreditGrantInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreditGrant | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: CreditGrantInput,
    idempotency_key: str,
) -> CreditGrant | ErrorEnvelope | None:
    """Grant a customer credits, paid or promotional, with an optional expiry and priority.

     Effective at once, with a `grant` ledger entry; a debt is paid from it first (docs/credits.md).
    `Idempotency-Key` is required: a repeat with the same key answers 200 with the same grant; the same
    key with another body is 409 `idempotency_key_in_use`. 404 when the user has no account.

    Args:
        user_id (str):
        idempotency_key (str):
        body (CreditGrantInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreditGrant | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
