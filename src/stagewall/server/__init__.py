"""``stagewall serve``: the control plane that authenticates, authorizes, acts and audits.

See docs/server.md and DESIGN.md "The trust boundary".
"""

from stagewall.server._state import ServerState
from stagewall.server.app import create_app
from stagewall.server.authz import POLICY, allowed, classes_for

__all__ = ["POLICY", "ServerState", "allowed", "classes_for", "create_app"]
