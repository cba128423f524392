from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_video_generation_request import CreateVideoGenerationRequest
from ...models.task_error_response import TaskErrorResponse
from ...models.video_task import VideoTask
from ...types import Response


def _get_kwargs(
    *,
    body: CreateVideoGenerationRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/video/generations",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> TaskErrorResponse | VideoTask | None:
    if response.status_code == 200:
        response_200 = VideoTask.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = TaskErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = TaskErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 429:
        response_429 = TaskErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = TaskErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[TaskErrorResponse | VideoTask]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateVideoGenerationRequest,
) -> Response[TaskErrorResponse | VideoTask]:
    """Create a video generation task

    Args:
        body (CreateVideoGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[TaskErrorResponse | VideoTask]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CreateVideoGenerationRequest,
) -> TaskErrorResponse | VideoTask | None:
    """Create a video generation task

    Args:
        body (CreateVideoGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        TaskErrorResponse | VideoTask
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateVideoGenerationRequest,
) -> Response[TaskErrorResponse | VideoTask]:
    """Create a video generation task

    Args:
        body (CreateVideoGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[TaskErrorResponse | VideoTask]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CreateVideoGenerationRequest,
) -> TaskErrorResponse | VideoTask | None:
    """Create a video generation task

    Args:
        body (CreateVideoGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        TaskErrorResponse | VideoTask
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
