"""Run a storyboard: submit, poll, remix, download and assemble, never paying twice.

    checks       what a run checks before it sends anything (`check`, `Checked`)
    lineage      fingerprints, and a remix's on its source's generation
    planned      what a run would do: `PlannedShot`s (`plan`)
    options      `RunOptions`, the CLI's flags as one value
    connections  one connection per provider; the embedded gateway comes from the caller
    executor     one shot from the ledger's answer to a verified file
    final        the final cut
    run          one whole run (`run_async`)

The runner never imports the emulator: `vidpipe.api` (the public `vidpipe.run`) and the CLI
hand it in as `RunOptions.gateway`.
"""

from __future__ import annotations

from .checks import Checked, check
from .connections import EmbeddedGateway, GatewayFactory
from .lineage import fingerprints
from .options import RunOptions
from .planned import PlannedShot, plan
from .run import run_async

__all__ = [
    "Checked",
    "EmbeddedGateway",
    "GatewayFactory",
    "PlannedShot",
    "RunOptions",
    "check",
    "fingerprints",
    "plan",
    "run_async",
]
