from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.empty_body import EmptyBody
from ...models.error_envelope import ErrorEnvelope
from ...models.payment_method import PaymentMethod
from ...types import UNSET, Response, Unset


def _get_kwargs(
    payment_method_id: str,
    *,
    body: EmptyBody | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/payment_methods/{payment_method_id}/default".format(
            payment_method_id=quote(str(payment_method_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | PaymentMethod | None:
    if response.status_code == 200:
        response_200 = PaymentMethod.from_dict(response.json())

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

    if response.status_code == 502:
        response_502 = ErrorEnvelope.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorEnvelope.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | PaymentMethod]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    payment_method_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | PaymentMethod]:
    """Make default.

    Args:
        payment_method_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PaymentMethod]
    """

    kwargs = _get_kwargs(
        payment_method_id=payment_method_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    payment_method_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | PaymentMethod | None:
    """Make default.

    Args:
        payment_method_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PaymentMethod
    """

    return sync_detailed(
        payment_method_id=payment_method_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    payment_method_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> Response[ErrorEnvelope | PaymentMethod]:
    """Make default.

    Args:
        payment_method_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PaymentMethod]
    """

    kwargs = _get_kwargs(
        payment_method_id=payment_method_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    payment_method_id: str,
    *,
    client: AuthenticatedClient,
    body: EmptyBody | Unset = UNSET,
) -> ErrorEnvelope | PaymentMethod | None:
    """Make default.

    Args:
        payment_method_id (str):
        body (EmptyBody | Unset): The body of a POST that takes no parameters: absent, or `{}`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PaymentMethod
    """

    return (
        await asyncio_detailed(
            payment_method_id=payment_method_id,
            client=client,
            body=body,
        )
    ).parsed
