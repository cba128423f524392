from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.task_error_response import TaskErrorResponse
from ...models.task_response import TaskResponse
from ...models.video_task import VideoTask
from ...types import Response


def _get_kwargs(
    task_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/video/generations/{task_id}".format(
            task_id=quote(str(task_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> TaskErrorResponse | TaskResponse | VideoTask | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> TaskResponse | VideoTask:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = TaskResponse.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = VideoTask.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = TaskErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = TaskErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = TaskErrorResponse.from_dict(response.json())

        return response_404

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
) -> Response[TaskErrorResponse | TaskResponse | VideoTask]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[TaskErrorResponse | TaskResponse | VideoTask]:
    """Retrieve a video generation task

     Answers with the task envelope; some gateway builds answer with a Video object.

    Args:
        task_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[TaskErrorResponse | TaskResponse | VideoTask]
    """

    kwargs = _get_kwargs(
        task_id=task_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> TaskErrorResponse | TaskResponse | VideoTask | None:
    """Retrieve a video generation task

     Answers with the task envelope; some gateway builds answer with a Video object.

    Args:
        task_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        TaskErrorResponse | TaskResponse | VideoTask
    """

    return sync_detailed(
        task_id=task_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[TaskErrorResponse | TaskResponse | VideoTask]:
    """Retrieve a video generation task

     Answers with the task envelope; some gateway builds answer with a Video object.

    Args:
        task_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[TaskErrorResponse | TaskResponse | VideoTask]
    """

    kwargs = _get_kwargs(
        task_id=task_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    task_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> TaskErrorResponse | TaskResponse | VideoTask | None:
    """Retrieve a video generation task

     Answers with the task envelope; some gateway builds answer with a Video object.

    Args:
        task_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        TaskErrorResponse | TaskResponse | VideoTask
    """

    return (
        await asyncio_detailed(
            task_id=task_id,
            client=client,
        )
    ).parsed
