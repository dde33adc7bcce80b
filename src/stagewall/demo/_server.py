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

    # bound here and handed to uvicorn, so no other process can take the port between
    # choosing it and serving on it
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    state = ServerState.open(config, f"sqlite:///{home / 'stagewall.db'}", home)
    server = uvicorn.Server(
        uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stagewall-demo-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            sock.close()
            raise BackendError("the demo server did not start on 127.0.0.1")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        # the app's shutdown stops taking work but leaves running tasks to finish on
        # their own; the demo waits for them (a notification, an evidence run: each
        # short) so nothing writes to the log after the server has stopped
        state.workers.shutdown(wait=True)
        state.ctx.store.dispose()
        sock.close()
