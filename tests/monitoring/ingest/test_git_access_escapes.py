"""Git smart-HTTP access-log lines are read field by field, escapes included.

Apache writes a '"' inside a quoted field (request, user agent, referer) as \\" and
nginx as \\x22. The request used to end at the first '"' of any kind, so a request
line the client sent with \\" 200 1 \\" in it chose the status and size of its own
line (a refused request read as a successful fetch). A line that does not read as
the format, to its end, is malformed: never read in part.
"""

from __future__ import annotations

import pytest

from stagewall.monitoring.events import Event
from stagewall.monitoring.ingest import LineError, parser_for

T = "[05/Dec/2026:10:00:01 +0000]"


def read(line: str) -> list[Event]:
    return parser_for("git", year=2026).feed(line)


def test_an_escaped_quote_in_the_request_does_not_end_it() -> None:
    """The server refused this request (400); its own status and size are the real ones."""
    line = (
        f'10.0.0.6 - alice {T} "POST /prod.git/git-upload-pack?\\" 200 99999999 \\"x HTTP/1.1" '
        '400 226 "-" "curl/8"'
    )
    with pytest.raises(LineError, match="METHOD PATH PROTOCOL"):
        read(line)


def test_an_escaped_quote_in_the_user_agent_is_part_of_it() -> None:
    line = (
        f'10.0.0.6 - dave {T} "POST /api.git/git-upload-pack HTTP/1.1" 200 5 "-" '
        '"git/2 \\" 10.9.9.9 - alice \\"x"'
    )
    (ev,) = read(line)
    assert (ev.user, ev.src_ip, ev.target, ev.status, ev.bytes) == (
        "dave",
        "10.0.0.6",
        "api",
        "success",
        5,
    )


@pytest.mark.parametrize(
    "line",
    [
        # a user agent whose quote is not closed: the line cannot be read to its end
        f'10.0.0.6 - dave {T} "POST /api.git/git-upload-pack HTTP/1.1" 200 5 "-" "git \\"',
        # a request line with spaces in the path: which part is the path?
        f'10.0.0.6 - dave {T} "POST /api.git/git-upload-pack /x.git/git-receive-pack HTTP/1.1"'
        " 200 5",
        # something after the size that is neither a quoted field nor a word
        f'10.0.0.6 - dave {T} "POST /api.git/git-upload-pack HTTP/1.1" 200 5 "-" x"y',
    ],
    ids=["open-quote", "spaces-in-request", "stray-quote"],
)
def test_a_line_that_does_not_read_whole_is_malformed(line: str) -> None:
    with pytest.raises(LineError):
        read(line)


def test_nginx_hex_escapes_and_apache_empty_user() -> None:
    nginx = (
        f'10.0.0.7 - bob {T} "POST /web.git/git-receive-pack HTTP/1.1" 200 10 "-" '
        '"ua \\x22quoted\\x22" rt=0.003'
    )
    apache = f'10.0.0.8 - "" {T} "POST /web.git/git-upload-pack HTTP/2.0" 401 0 "-" "-"'
    evs = read(nginx) + read(apache)
    assert [(e.user, e.operation, e.status) for e in evs] == [
        ("bob", "git.push", "success"),
        ("", "git.fetch", "failure"),
    ]


def test_other_requests_are_not_git_events() -> None:
    assert read(f'10.0.0.6 - - {T} "-" 408 0 "-" "-"') == []
    assert read(f'10.0.0.6 - - {T} "GET /api.git/info/refs HTTP/1.1" 200 5 "-" "-"') == []
