"""The apifree client by role, for vidpipe's adapters.

Written by `make regen` from specs/apifree.yaml; never edit it by hand.
"""

from typing import TypeAlias

from .api.videos.create_video import asyncio_detailed as create
from .api.videos.get_video import asyncio_detailed as status
from .api.videos.get_video_content import asyncio_detailed as content
from .api.videos.remix_video import asyncio_detailed as remix
from .client import AuthenticatedClient
from .models import CreateVideoJsonRequest, CreateVideoMultipartRequest, RemixVideoRequest, Video
from .types import File, Unset

#: The spec this package was generated from, and its sha256 (over the spec file and the
#: shared parts it references): a client whose spec has changed since is stale.
SPEC = "apifree"
SPEC_SHA256 = "c664d00dfc1ff660904ff8747b832379d355997c5b756878e74b7904660976b1"


#: The create call's body class (one per content type), the remix call's, and the classes a
#: successful create, status or remix answer is parsed into.
CreateBody: TypeAlias = CreateVideoJsonRequest | CreateVideoMultipartRequest
RemixBody: TypeAlias = RemixVideoRequest
Answer: TypeAlias = Video

CREATE_BODIES: dict[str, type[CreateBody]] = {
    "application/json": CreateVideoJsonRequest,
    "multipart/form-data": CreateVideoMultipartRequest,
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
