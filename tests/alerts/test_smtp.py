"""The SMTP sink against a small real SMTP server on 127.0.0.1 (plain, STARTTLS, AUTH).

The server speaks just enough of RFC 5321 (EHLO, STARTTLS, AUTH PLAIN, MAIL,
RCPT, DATA, QUIT) on a thread; its TLS certificate is a throwaway self-signed
one for 127.0.0.1 that the client trusts only when ``SSL_CERT_FILE`` points at it.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stagewall.alerts import Alert, AlertDispatcher, Severity, SmtpAlertSink, sinks_from_config
from stagewall.alerts.sinks import AlertDeliveryError
from stagewall.estate.models import SmtpSink


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message
    tls: bool
    auth: tuple[str, str] | None


@dataclass
class SmtpServer:
    tls: ssl.SSLContext | None
    offer_auth: bool = False
    received: list[Received] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.closing = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.closing = True
        with socket.create_connection(("127.0.0.1", self.port)):
            pass  # wakes the blocking accept() so the thread sees ``closing``
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            if self.closing:
                conn.close()
                return
            open_socks = [conn]
            try:
                self._session(conn, open_socks)
            except (OSError, ssl.SSLError) as exc:
                self.errors.append(f"{exc.__class__.__name__}: {exc}")
            finally:
                for s in open_socks:
                    s.close()

    def _session(self, conn: socket.socket, open_socks: list[socket.socket]) -> None:
        tls, auth, sender, rcpts = False, None, "", []
        reader = conn.makefile("rb")

        def reply(text: str) -> None:
            conn.sendall(text.encode() + b"\r\n")

        reply("220 127.0.0.1 test ESMTP")
        while True:
            line = reader.readline()
            if not line:
                return
            cmd = line.decode().rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                caps = ["127.0.0.1"]
                if self.tls is not None and not tls:
                    caps.append("STARTTLS")
                if self.offer_auth and tls:
                    caps.append("AUTH PLAIN")
                caps.append("8BITMIME")
                reply(
                    "\r\n".join(
                        f"250{'-' if i < len(caps) - 1 else ' '}{c}" for i, c in enumerate(caps)
                    )
                )
            elif verb == "STARTTLS" and self.tls is not None and not tls:
                reply("220 go ahead")
                conn = self.tls.wrap_socket(conn, server_side=True)
                open_socks.append(conn)
                reader = conn.makefile("rb")
                tls = True
            elif verb == "AUTH" and self.offer_auth and tls:
                raw = base64.b64decode(cmd.split(" ")[2]).split(b"\0")
                auth = (raw[1].decode(), raw[2].decode())
                reply("235 ok")
            elif verb == "MAIL":
                sender = cmd.split(":", 1)[1].strip().strip("<>").split(">")[0]
                reply("250 ok")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                reply("250 ok")
            elif verb == "DATA":
                reply("354 end with .")
                body = b""
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                self.received.append(Received(sender, rcpts, message_from_bytes(body), tls, auth))
                reply("250 queued")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("502 not implemented")


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stagewall test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp-cert.pem", tmp / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return _self_signed(tmp_path)


@pytest.fixture
def server_factory(cert: tuple[Path, Path]) -> Iterator[object]:
    made: list[SmtpServer] = []

    def make(*, starttls: bool, offer_auth: bool = False) -> SmtpServer:
        ctx = None
        if starttls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*cert)
        srv = SmtpServer(ctx, offer_auth)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.close()


ALERT = Alert(
    kind="access.breakglass.used",
    title="break-glass by alice",
    text="alice used break-glass on prod-read\n.a line starting with a dot",
    severity=Severity.CRITICAL,
    details={"grant": "g123", "role": "prod-read"},
)


def test_plain_delivery_to_a_local_relay(server_factory: object) -> None:
    srv = server_factory(starttls=False)  # type: ignore[operator]
    sink = SmtpAlertSink(
        "127.0.0.1",
        srv.port,
        "stagewall@example.com",
        ["sec@example.com", "ops@example.com"],
        starttls=False,
    )
    assert AlertDispatcher([sink]).send(ALERT) == []
    [got] = srv.received
    assert got.sender == "stagewall@example.com"
    assert got.recipients == ["sec@example.com", "ops@example.com"]
    assert got.tls is False and got.auth is None
    msg = got.message
    assert msg["Subject"] == "[stagewall critical] break-glass by alice"
    assert msg["From"] == "stagewall@example.com"
    assert msg["To"] == "sec@example.com, ops@example.com"
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "alice used break-glass on prod-read\n.a line starting with a dot" in body
    assert "kind: access.breakglass.used" in body and '"grant": "g123"' in body


def test_starttls_with_authentication_from_the_estate_config(
    server_factory: object, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    monkeypatch.setenv("T_SMTP_USER", "alerts")
    monkeypatch.setenv("T_SMTP_PASSWORD", "s3cret-pw")
    srv = server_factory(starttls=True, offer_auth=True)  # type: ignore[operator]
    cfg = SmtpSink(
        type="smtp",
        host="127.0.0.1",
        port=srv.port,
        sender="sw@example.com",
        to=["sec@example.com"],
        username_env="T_SMTP_USER",
        password_env="T_SMTP_PASSWORD",
    )
    [sink] = sinks_from_config([cfg])
    assert "s3cret-pw" not in sink.name
    assert AlertDispatcher([sink]).send(ALERT) == []
    [got] = srv.received
    assert got.tls is True  # the message and the password travelled inside TLS
    assert got.auth == ("alerts", "s3cret-pw")
    assert got.message["Subject"] == "[stagewall critical] break-glass by alice"


def test_starttls_refused_by_server_is_a_delivery_failure_not_a_plaintext_fallback(
    server_factory: object,
) -> None:
    srv = server_factory(starttls=False)  # type: ignore[operator]
    sink = SmtpAlertSink("127.0.0.1", srv.port, "sw@example.com", ["sec@example.com"])
    with pytest.raises(AlertDeliveryError, match="STARTTLS extension not supported"):
        sink.send(ALERT)
    assert srv.received == []


def test_untrusted_certificate_is_a_delivery_failure(server_factory: object) -> None:
    srv = server_factory(starttls=True)  # type: ignore[operator]
    sink = SmtpAlertSink("127.0.0.1", srv.port, "sw@example.com", ["sec@example.com"])
    failures = AlertDispatcher([sink]).send(ALERT)
    assert [f.sink for f in failures] == [f"smtp(127.0.0.1:{srv.port})"]
    assert "CERTIFICATE_VERIFY_FAILED" in failures[0].error
    assert srv.received == []


def test_credentials_are_never_sent_without_starttls(server_factory: object) -> None:
    srv = server_factory(starttls=False)  # type: ignore[operator]
    sink = SmtpAlertSink(
        "127.0.0.1",
        srv.port,
        "sw@example.com",
        ["sec@example.com"],
        starttls=False,
        username="alerts",
        password="s3cret-pw",
    )
    with pytest.raises(AlertDeliveryError, match="refusing to send SMTP credentials") as err:
        sink.send(ALERT)
    assert "s3cret-pw" not in err.value.message
    assert srv.received == []


def test_a_line_break_in_the_title_cannot_stop_or_forge_the_mail(server_factory: object) -> None:
    """A title built from what someone else wrote (a login name from a monitored log) with a
    CR/LF is sent on one subject line: neither an extra header nor a lost alert."""
    srv = server_factory(starttls=False)  # type: ignore[operator]
    sink = SmtpAlertSink(
        "127.0.0.1", srv.port, "stagewall@example.com", ["sec@example.com"], starttls=False
    )
    forged = Alert(
        kind="monitoring.ssh.root",
        title="root login: mallory\r\nBcc: attacker@example.net\r\nX-Ignore: 1",
        text="see the monitoring log",
        severity=Severity.CRITICAL,
    )
    assert AlertDispatcher([sink]).send(forged) == []
    [got] = srv.received
    assert got.recipients == ["sec@example.com"]
    assert got.message["Bcc"] is None and got.message["X-Ignore"] is None
    assert sorted(got.message.keys()) == sorted(
        ["Subject", "From", "To", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )
    subject = " ".join(str(got.message["Subject"]).split())  # unfold (RFC 5322 folding)
    assert (
        subject == "[stagewall critical] root login: mallory Bcc: attacker@example.net X-Ignore: 1"
    )
