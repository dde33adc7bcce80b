"""What one server process holds: the estate, the store, the keys' home, the sweeper state."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stagewall.access import AccessContext
from stagewall.estate import Estate
from stagewall.estate.models import ServerSettings


@dataclass
class SweepStatus:
    """What /healthz reports about the built-in sweeper of this process."""

    leader: bool = False
    last_sweep: datetime | None = None
    last_error: str | None = None
    sweeps: int = 0
    late_alerted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class ServerState:
    ctx: AccessContext
    home: Path
    sweep: SweepStatus = field(default_factory=SweepStatus)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @classmethod
    def open(
        cls,
        config: str | os.PathLike[str] | None,
        db: str | None,
        home: str | os.PathLike[str],
    ) -> ServerState:
        ctx = AccessContext.open(config, db, home=home)
        return cls(ctx=ctx, home=Path(home))

    @property
    def estate(self) -> Estate:
        return self.ctx.estate

    @property
    def settings(self) -> ServerSettings:
        return self.ctx.estate.server

    def now(self) -> datetime:
        return self.clock()
