"""The anyfast_seedance client by role, for vidpipe's adapters.

Written by `make regen` from specs/anyfast_seedance.yaml; never edit it by hand.
"""

from typing import Never, TypeAlias

from .api.video_generations.create_video_generation import asyncio_detailed as create
from .api.video_generations.get_video_generation import asyncio_detailed as status
from .client import AuthenticatedClient
from .models import CreateVideoGenerationRequest, TaskResponse, VideoTask
from .types import File, Unset

#: The spec this package was generated from, and its sha256 (over the spec file and the
#: shared parts it references): a client whose spec has changed since is stale.
SPEC = "anyfast_seedance"
SPEC_SHA256 = "a42a6f986b1c701fc576e760a1732eb4d1351f2c9df2b42b5061242402466420"

content = None
remix = None

#: The create call's body class (one per content type), the remix call's, and the classes a
#: successful create, status or remix answer is parsed into.
CreateBody: TypeAlias = CreateVideoGenerationRequest
RemixBody: TypeAlias = Never
Answer: TypeAlias = VideoTask | TaskResponse

CREATE_BODIES: dict[str, type[CreateBody]] = {
    "application/json": CreateVideoGenerationRequest,
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
