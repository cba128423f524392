"""The anyfast_sora client by role, for vidpipe's adapters.

Written by `make regen` from specs/anyfast_sora.yaml; never edit it by hand.
"""

from typing import TypeAlias

from .api.videos.create_video import asyncio_detailed as create
from .api.videos.get_video import asyncio_detailed as status
from .api.videos.get_video_content import asyncio_detailed as content
from .api.videos.remix_video import asyncio_detailed as remix
from .client import AuthenticatedClient
from .models import CreateVideoRequest, RemixVideoRequest, Video
from .types import File, Unset

#: The spec this package was generated from, and its sha256 (over the spec file and the
#: shared parts it references): a client whose spec has changed since is stale.
SPEC = "anyfast_sora"
SPEC_SHA256 = "65aa93e43de0d097edc1cd186a5b669677b887278f343713b604b1d59fa9d00c"


#: The create call's body class (one per content type), the remix call's, and the classes a
#: successful create, status or remix answer is parsed into.
CreateBody: TypeAlias = CreateVideoRequest
RemixBody: TypeAlias = RemixVideoRequest
Answer: TypeAlias = Video

CREATE_BODIES: dict[str, type[CreateBody]] = {
    "multipart/form-data": CreateVideoRequest,
}
REMIX_BODY: type[RemixBody] | None = RemixVideoRequest
ANSWERS: tuple[type[Answer], ...] = (Video,)

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
