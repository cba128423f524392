"""The anyfast_happyhorse client by role, for vidpipe's adapters.

Written by `make regen` from specs/anyfast_happyhorse.yaml; never edit it by hand.
"""

from typing import Never, TypeAlias

from .api.video_generations.create_image_to_video import asyncio_detailed as create
from .api.video_generations.get_video_generation import asyncio_detailed as status
from .client import AuthenticatedClient
from .models import CreateImageToVideoRequest, TaskResponse, VideoTask
from .types import File, Unset

#: The spec this package was generated from, and its sha256 (over the spec file and the
#: shared parts it references): a client whose spec has changed since is stale.
SPEC = "anyfast_happyhorse"
SPEC_SHA256 = "0d661652bba8167ccebdf5266925db9acf2829af5d0d1f932c924c563f9a5c13"

content = None
remix = None

#: The create call's body class (one per content type), the remix call's, and the classes a
#: successful create, status or remix answer is parsed into.
CreateBody: TypeAlias = CreateImageToVideoRequest
RemixBody: TypeAlias = Never
Answer: TypeAlias = VideoTask | TaskResponse

CREATE_BODIES: dict[str, type[CreateBody]] = {
    "application/json": CreateImageToVideoRequest,
}
REMIX_BODY: type[RemixBody] | None = None
ANSWERS: tuple[type[Answer], ...] = (
    VideoTask,
    TaskResponse,
)

__all__ = [
    "ANSWERS",
    "CREATE_BODIES",
    "REMIX_BODY",
    "SPEC",
    "SPEC_SHA256",
    "Answer",
    "AuthenticatedClient",
    "CreateBody",
    "File",
    "RemixBody",
    "Unset",
    "content",
    "create",
    "remix",
    "status",
]
