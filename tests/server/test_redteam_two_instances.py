"""Red team, held: two instances on one store agree on codes and logins at once.

One TOTP code sent to both instances in the same instant opens one step-up window, not
two; a token signed out on one instance is dead on the other on the next request.
"""

from __future__ import annotations

import httpx

from stagewall.server import ServerState
from tests.live_server import serve
from tests.server.conftest import World
from tests.server.test_shared_instances import _at_once
from tests.server.test_shared_instances import two as two


def test_one_code_at_two_instances_at_once_is_accepted_once(
    two: tuple[World, ServerState],
) -> None:
    world, other = two
    alice = world.onboard("alice")
    first, second = alice.login(), alice.login()  # two sessions of alice
    code = {"otp": alice.otp()}
    with (
        serve(world.state, run_sweeper=False) as one_url,
        serve(other, run_sweeper=False) as two_url,
    ):
        answers = _at_once(
            [
                (f"{one_url}/api/v1/step-up", code, {"Authorization": f"Bearer {first}"}),
                (f"{two_url}/api/v1/step-up", code, {"Authorization": f"Bearer {second}"}),
            ]
        )
        assert sorted(answers) == [200, 403], answers
        # signed out on instance one: refused on instance two, straight away
        gone = {"Authorization": f"Bearer {first}"}
        assert httpx.delete(f"{one_url}/api/v1/session", headers=gone).status_code == 204
        res = httpx.get(f"{two_url}/api/v1/whoami", headers=gone)
        assert res.status_code == 401 and res.json()["code"] == "SW720"
