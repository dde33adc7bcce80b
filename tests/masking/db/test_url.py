from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.masking.db import DatabaseURL, parse_url


def test_postgres_url_parts_and_params() -> None:
    u = parse_url("postgresql://app:s3cret@db.example:6543/shop?sslmode=require")
    assert (u.backend, u.host, u.port, u.database, u.user) == (
        "postgresql",
        "db.example",
        6543,
        "shop",
        "app",
    )
    assert u.password == "s3cret"
    assert ("sslmode", "require") in u.params
    assert "s3cret" not in repr(u)
    assert "s3cret" not in u.display
    assert "s3cret" not in str(u.identity())
    assert u.identity() == {
        "backend": "postgresql",
        "host": "db.example",
        "port": 6543,
        "database": "shop",
    }


def test_default_ports_and_aliases() -> None:
    assert parse_url("postgres://h/db").port == 5432
    assert parse_url("mariadb://root@h/db").backend == "mysql"
    assert parse_url("mysql://root@h/db").port == 3306


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGEWALL_SOURCE_PASSWORD", "from-env")
    monkeypatch.setenv("PGPASSWORD", "pg-env")
    assert parse_url("postgresql://u@h/db", "source").password == "from-env"
    assert parse_url("postgresql://u@h/db", "target").password == "pg-env"
    monkeypatch.setenv("MYSQL_PWD", "my-env")
    assert parse_url("mysql://u@h/db", "target").password == "my-env"
    assert parse_url("postgresql://u:inline@h/db", "source").password == "inline"


def test_sqlite_paths(tmp_path: Path) -> None:
    rel = parse_url("sqlite:///data/x.db")
    assert rel.path == Path("data/x.db")
    absolute = parse_url(f"sqlite:///{tmp_path}/x.db")
    assert absolute.path == tmp_path / "x.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("oracle://h/db", "scheme 'oracle' is not supported"),
        ("just-a-path.db", "scheme '(none)' is not supported"),
        ("postgresql://u:pw@h:5432/", "names no database"),
        ("sqlite:///", "names no database file"),
        ("postgresql://u@h:notaport/db", "not valid"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_url(url)
    assert message in err.value.message
    assert "pw" not in err.value.message.replace("postgresql", "")


def test_same_database_resolves_aliases_and_symlinks(tmp_path: Path) -> None:
    a = parse_url("postgresql://u@localhost:5432/shop")
    assert a.same_database(parse_url("postgresql://other@127.0.0.1:5432/shop"))
    assert not a.same_database(parse_url("postgresql://u@127.0.0.1:5432/shop_staging"))
    assert not a.same_database(parse_url("postgresql://u@127.0.0.1:5433/shop"))
    real = tmp_path / "real.db"
    real.write_bytes(b"")
    link = tmp_path / "link.db"
    link.symlink_to(real)
    assert DatabaseURL.parse(f"sqlite:///{real}").same_database(
        DatabaseURL.parse(f"sqlite:///{link}")
    )
