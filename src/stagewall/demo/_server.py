"""The demo's ``stagewall serve``: the real app on a loopback port, for the demo's duration."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stagewall.errors import BackendError


@contextmanager
def start_server(config: Path, home: Path) -> Iterator[str]:
    """Serve the demo estate on 127.0.0.1 (a free port); yields the base URL."""
    import uvicorn

    from stagewall.server import ServerState, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    state = ServerState.open(config, f"sqlite:///{home / 'stagewall.db'}", home)
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="stagewall-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise BackendError("the demo server did not start on 127.0.0.1")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        state.ctx.store.dispose()
