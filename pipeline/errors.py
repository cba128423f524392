"""Every error vidpipe raises, as one hierarchy.

Library code raises these; only the CLI turns them into messages and exit codes.

    VidpipeError
    ├── InputError            bad storyboard, template, spec or argument (exit 2, nothing sent)
    │   └── OverBudget        the run's quote passes its budget, or a budgeted run has
    │                         unpriced shots (exit 2, nothing sent)
    ├── BudgetReached         a create's reservation would pass the budget (its shot ends
    │                         over-budget)
    ├── SpecError             a spec in specs/ cannot be loaded or lacks a vidpipe extension
    ├── StateError            the ledger / state dir / output folder (exit 2)
    │   └── StateLocked       another run holds the state dir or the output folder
    ├── WriteError            a file could not be written (disk full, permission)
    ├── FrameError            no such frame in a video (continuity, contact sheets)
    └── ProviderError         anything that went wrong talking to a provider
        ├── TransportError    connection reset, timeout, truncated body
        ├── HTTPStatusError   an HTTP status the call cannot use (after retries)
        ├── TaskFailed        the provider reported the task failed
        ├── PollTimeout       the task did not finish before its deadline
        ├── UnmappedStatus    the task kept answering a status word its spec does not map
        ├── ContentExpired    the provider says the finished task's video is gone
        ├── ResultRefused     the result URL keeps refusing the download (the task is kept)
        ├── UnknownCreate     a create was sent but its answer was lost
        ├── UnsafeURL         a result URL that is not fetched (not http(s), a private address)
        └── IntegrityError    a downloaded file does not match what was expected
            └── NotAVideo     what arrived is not a video (an HTML page, a JSON error)
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Problem:
    """One thing wrong with an input file, located by file and 1-based line."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class VidpipeError(Exception):
    """Base class for every vidpipe error."""


class InputError(VidpipeError):
    """Bad input. Carries every problem found, so they can be reported at once."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OverBudget(InputError):
    """A budgeted run that would pass its budget, or that has shots with no known price.

    `quote` is the run's quote (`vidpipe.cost.RunQuote`), `budget` the budget in USD.
    """

    def __init__(self, problems: list[Problem], *, quote: object, budget: float) -> None:
        self.quote = quote
        self.budget = budget
        super().__init__(problems)


class BudgetReached(VidpipeError):
    """A create whose estimate, reserved, would take the run past its budget."""

    def __init__(self, message: str, *, reserved: float, budget: float) -> None:
        self.reserved = reserved
        self.budget = budget
        super().__init__(message)


class SpecError(VidpipeError):
    """A spec file is missing, invalid, or lacks what vidpipe reads from it."""

    def __init__(self, message: str, *, spec: str | None = None) -> None:
        self.spec = spec
        super().__init__(f"{spec}: {message}" if spec else message)


class FrameError(VidpipeError):
    """A frame cannot be taken from a video: it is unreadable, or the time lies beyond it."""


class StateError(VidpipeError):
    """The state dir or its ledger cannot be used."""


class StateLocked(StateError):
    """Another vidpipe run holds the lock on this state dir (or on the output folder)."""

    def __init__(self, message: str, *, state_dir: str) -> None:
        self.state_dir = state_dir
        super().__init__(message)


class WriteError(VidpipeError):
    """A file could not be written: the disk is full, or writing there is not allowed."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class ProviderError(VidpipeError):
    """Something went wrong talking to a provider."""

    def __init__(
        self, message: str, *, shot: str | None = None, task_id: str | None = None
    ) -> None:
        self.shot = shot
        self.task_id = task_id
        super().__init__(message)


class TransportError(ProviderError):
    """The connection failed, timed out, or a body was cut short."""


class HTTPStatusError(ProviderError):
    """The provider answered with a status the call cannot use."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        shot: str | None = None,
        task_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after
        super().__init__(message, shot=shot, task_id=task_id)


class TaskFailed(ProviderError):
    """The provider reported that the task failed."""

    def __init__(
        self, message: str, *, reason: str = "", shot: str | None = None, task_id: str | None = None
    ) -> None:
        self.reason = reason
        super().__init__(message, shot=shot, task_id=task_id)


class PollTimeout(ProviderError):
    """The task did not reach a final state before its deadline."""


class UnmappedStatus(ProviderError):
    """The task answered, for longer than the grace period, a status word its spec's
    `x-vidpipe-status` does not map."""

    def __init__(
        self,
        message: str,
        *,
        word: str,
        waited: float,
        shot: str | None = None,
        task_id: str | None = None,
    ) -> None:
        self.word = word
        self.waited = waited
        super().__init__(message, shot=shot, task_id=task_id)


class ContentExpired(ProviderError):
    """The provider says a completed task's video is gone for good."""


class ResultRefused(HTTPStatusError):
    """The result URL refused the download (401, 403, 404, 410), or there was none.

    `gone` is set when the answer says the content is gone for good (410, or a 404 that
    says it expired). A refusal that outlasts the download's refresh rounds leaves the task
    kept for the next run: the video may still be there.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        gone: bool = False,
        body: str = "",
        task_id: str | None = None,
    ) -> None:
        self.gone = gone
        super().__init__(message, status_code=status_code, body=body, task_id=task_id)


class UnknownCreate(ProviderError):
    """A create was sent but its answer was lost; re-sending might pay twice."""


class IntegrityError(ProviderError):
    """A downloaded file does not match its expected size or digest."""


class UnsafeURL(ProviderError):
    """A result URL (or a redirect) vidpipe does not fetch: not http(s), or on a loopback,
    private, link-local or metadata address the provider is not allowed to send it to."""


class NotAVideo(IntegrityError):
    """A download brought something other than a video; the message says what arrived."""
