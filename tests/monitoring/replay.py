"""A labelled replay month, generated deterministically: a 30-person company, 2 vendors.

Four weeks (Mon 2026-11-02 .. Sun 2026-11-29) of raw log lines in each source's own
format (PostgreSQL csvlog and jsonlog with pgaudit, MariaDB server_audit, sshd as
RFC 3339 syslog and journald JSON, internal-sftp, GitHub audit JSON, git smart-HTTP
access log, CloudTrail ``{"Records": [...]}``), the estate that declares the
company, the grants it approved, and the incidents injected on top of the normal
month, each labelled with the rules that should fire on it.

Used by tests/monitoring/test_replay.py and bench/detection.py.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from stagewall.monitoring.enrich import GrantWindow

START = datetime(2026, 11, 2, tzinfo=UTC)
DAYS = 28
WEEKS = DAYS // 7

SOURCES = {
    "pg-prod": "postgresql",
    "pg-staging": "postgresql",
    "mariadb-prod": "mariadb",
    "ssh-bastion": "sshd",
    "ssh-staging": "sshd",
    "sftp-prod": "sftp",
    "github": "github",
    "git-internal": "git",
    "cloudtrail": "cloudtrail",
}

REPOS = [
    f"northwind/{n}"
    for n in (
        "web",
        "api",
        "billing",
        "infra",
        "mobile",
        "etl",
        "docs",
        "design-system",
        "auth",
        "reports",
        "search",
        "notifications",
        "admin",
        "sdk-python",
        "sdk-js",
        "terraform",
        "helm-charts",
        "data-models",
        "ml-scoring",
        "status-page",
        "cli",
        "analytics",
        "payments",
        "crm-sync",
        "exports",
        "legacy-php",
        "load-tests",
        "fixtures",
        "onboarding",
        "sandbox",
    )
]


@dataclass(frozen=True)
class Person:
    pid: str
    vendor: str | None
    tz: str
    engineer: bool
    prod: bool  # eligible for production roles
    github: str
    home: str  # /24 prefix, e.g. "100.70.3"
    hours: tuple[int, int]  # usual local start/end hour


@dataclass(frozen=True)
class Incident:
    id: str
    rules: frozenset[str]
    start: float
    end: float
    match: tuple[tuple[str, str], ...]  # finding fields that identify it


@dataclass
class Month:
    estate_yaml: str
    lines: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    grants: list[GrantWindow] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    def day_chunks(self) -> list[tuple[str, list[str]]]:
        """(source, lines) per simulated day, days in order, sources interleaved."""
        out: list[tuple[str, list[str]]] = []
        start = START.timestamp()
        for day in range(DAYS + 1):
            lo, hi = start + day * 86400, start + (day + 1) * 86400
            for src in SOURCES:
                chunk = [line for t, line in self.lines.get(src, []) if lo <= t < hi]
                if chunk:
                    out.append((src, chunk))
        return out


def _people(rng: random.Random) -> list[Person]:
    people: list[Person] = []
    names = [
        "anna",
        "ben",
        "carl",
        "dave",
        "erin",
        "frank",
        "gina",
        "hugo",
        "ivan",
        "judy",
        "kim",
        "leo",
        "mia",
        "nick",
        "olga",
        "paul",
        "quinn",
        "rosa",
        "sam",
        "tina",
        "uwe",
        "vera",
        "walt",
        "xena",
        "yann",
    ]
    for i, n in enumerate(names):
        engineer = i < 14
        tz = "America/New_York" if i in (6, 11, 19) else "Europe/Berlin"
        people.append(
            Person(
                n,
                None,
                tz,
                engineer,
                engineer and i < 10,
                f"{n}-nw",
                f"100.70.{i + 1}",
                (8 + i % 2, 17 + i % 2),
            )
        )
    for j, n in enumerate(("kasia", "marek", "piotr", "tomasz")[:3]):
        people.append(
            Person(
                n, "acme-dev", "Europe/Warsaw", True, False, f"{n}-acme", f"100.80.{j + 1}", (9, 17)
            )
        )
    for j, n in enumerate(("li", "wei")):
        people.append(
            Person(
                n,
                "pixel-studio",
                "Asia/Singapore",
                True,
                False,
                f"{n}-pixel",
                f"100.81.{j + 1}",
                (9, 17),
            )
        )
    del rng
    return people


def _estate(people: list[Person]) -> str:
    lines = [
        "version: 1",
        "organisation: Northwind Analytics",
        "environments:",
        "  production: {tier: production}",
        "  staging: {tier: non-production}",
        "resources:",
        "  pg-prod: {environment: production, kind: postgresql, host: db.prod.nw.internal, "
        "database: app, identifiers: [10.20.0.10]}",
        "  pg-staging: {environment: staging, kind: postgresql, host: db.staging.nw.internal, "
        "database: app}",
        "  mariadb-prod: {environment: production, kind: mysql, host: mdb.prod.nw.internal, "
        "database: billing, identifiers: [mdb-prod-1]}",
        "  bastion-prod: {environment: production, kind: host, identifiers: [bastion-prod]}",
        "  app-staging: {environment: staging, kind: host, identifiers: [staging1]}",
        "  sftp-prod: {environment: production, kind: host, identifiers: [sftp-prod]}",
        "  exports-prod: {environment: production, kind: bucket, identifiers: [nw-prod-exports]}",
        "  assets-staging: {environment: staging, kind: bucket, identifiers: [nw-staging-assets]}",
        "  repo-infra: {environment: staging, kind: repository, identifiers: [northwind/infra]}",
        "vendors:",
        "  acme-dev: {contract_start: 2026-01-01, contract_end: 2027-06-30, "
        "working_hours: 'Mon-Fri 07:00-20:00'}",
        "  pixel-studio: {contract_start: 2026-03-01, contract_end: 2027-03-31, "
        "working_hours: 'Mon-Fri 07:00-21:00'}",
        "principals:",
    ]
    for p in people:
        aff = "external" if p.vendor else "internal"
        vendor = f", vendor: {p.vendor}" if p.vendor else ""
        lines.append(
            f"  {p.pid}: {{affiliation: {aff}{vendor}, timezone: {p.tz}, "
            f"identities: {{github: [{p.github}], cloud: [{p.pid}], logins: [{p.pid}]}}}}"
        )
    for svc, login in (
        ("app", "app"),
        ("billing", "billing_app"),
        ("ci", "ci-bot"),
        ("backup", "backup"),
    ):
        lines.append(
            f"  svc-{svc}: {{kind: service, affiliation: internal, "
            f"identities: {{logins: [{login}], github: [{login}], cloud: [{login}]}}}}"
        )
    engineers = [p.pid for p in people if p.prod]
    lines += [
        "groups:",
        f"  prod-engineers: {{members: [{', '.join(engineers)}]}}",
        "approval_rules:",
        "  two-person: {approvals: 1}",
        "roles:",
        "  prod-db: {environment: production, resources: [pg-prod, mariadb-prod], "
        "eligible: ['group:prod-engineers'], approval: two-person, max_duration: 4h}",
        "  prod-ssh: {environment: production, resources: [bastion-prod, sftp-prod, exports-prod], "
        "eligible: ['group:prod-engineers'], approval: two-person, max_duration: 4h}",
        "monitoring:",
        "  timezone: Europe/Berlin",
        "  working_hours: 'Mon-Fri 07:00-20:00'",
        "  sources:",
        "    pg-prod: {type: postgresql, resource: pg-prod, max_gap: 2h}",
        "    pg-staging: {type: postgresql, resource: pg-staging}",
        "    mariadb-prod: {type: mariadb, resource: mariadb-prod, max_gap: 2h}",
        "    ssh-bastion: {type: sshd, resource: bastion-prod, trust_program_names: true}",
        "    ssh-staging: {type: sshd, resource: app-staging}",
        "    sftp-prod: {type: sftp, resource: sftp-prod, trust_program_names: true}",
        "    github: {type: github, hosts: [repo-infra]}",
        "    git-internal: {type: git, authenticating: true}",
        # the data role is assumed through the identity provider, which names the session
        "    cloudtrail: {type: cloudtrail, "
        "session_name_roles: ['arn:aws:iam::111122223333:role/data']}",
    ]
    return "\n".join(lines) + "\n"


class _Writer:
    """Formats lines in each source's native format."""

    def __init__(self, month: Month, rng: random.Random) -> None:
        self.m = month
        self.rng = rng
        self.pid = 20000
        self.ct_batch: list[tuple[float, dict[str, object]]] = []

    def add(self, src: str, t: float, line: str) -> None:
        self.m.lines.setdefault(src, []).append((t, line))

    def next_pid(self) -> str:
        self.pid += 1
        return str(self.pid)

    # PostgreSQL csvlog (pg-prod) and jsonlog (pg-staging)
    def pg(
        self, src: str, t: float, pid: str, user: str, db: str, ip: str, sev: str, msg: str
    ) -> None:
        stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
        if src == "pg-prod":
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(
                [
                    stamp,
                    user,
                    db,
                    pid,
                    f"{ip}:{40000 + int(pid) % 20000}" if ip else "",
                    f"{int(t):x}.{int(pid):x}",
                    1,
                    "authentication" if sev == "FATAL" else "idle",
                    stamp,
                    "3/1",
                    0,
                    sev,
                    "28P01" if sev == "FATAL" else "00000",
                    msg,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "psql",
                    "client backend",
                    "",
                    "0",
                ]
            )
            self.add(src, t, buf.getvalue())
        else:
            rec: dict[str, object] = {
                "timestamp": stamp,
                "pid": int(pid),
                "error_severity": sev,
                "message": msg,
                "backend_type": "client backend",
            }
            if user:
                rec["user"] = user
            if db:
                rec["dbname"] = db
            if ip:
                rec["remote_host"] = ip
                rec["remote_port"] = 40000 + int(pid) % 20000
            self.add(src, t, json.dumps(rec))

    def pg_session(
        self,
        src: str,
        t: float,
        user: str,
        ip: str,
        reads: int,
        statements: list[str] | None = None,
        length: float = 600.0,
    ) -> None:
        pid = self.next_pid()
        self.pg(src, t, pid, "", "", ip, "LOG", f"connection received: host={ip} port=5000")
        self.pg(
            src,
            t + 0.01,
            pid,
            user,
            "app",
            ip,
            "LOG",
            f"connection authorized: user={user} database=app application_name=psql",
        )
        step = length / (reads + len(statements or []) + 1)
        tt = t + 1
        tables = ("public.customers", "public.orders", "public.invoices", "public.products")
        for i in range(reads):
            table = tables[i % 4]
            self.pg(
                src,
                tt,
                pid,
                user,
                "app",
                ip,
                "LOG",
                f"AUDIT: SESSION,{i + 1},1,READ,SELECT,TABLE,{table},"
                f"select * from {table} where id = {self.rng.randint(1, 99999)},<not logged>",
            )
            tt += step
        for j, stmt in enumerate(statements or []):
            self.pg(
                src,
                tt,
                pid,
                user,
                "app",
                ip,
                "LOG",
                f"AUDIT: SESSION,{reads + j + 1},1,{stmt},<not logged>",
            )
            tt += step
        end = t + length
        self.pg(
            src,
            end,
            pid,
            user,
            "app",
            ip,
            "LOG",
            f"disconnection: session time: 0:{int(length) // 60:02d}:00.000 user={user} "
            f"database=app host={ip} port=5000",
        )

    def mariadb(
        self, t: float, user: str, ip: str, op: str, obj: str = "", ret: str = "0", conn: str = "1"
    ) -> None:
        stamp = datetime.fromtimestamp(t, UTC).strftime("%Y%m%d %H:%M:%S")
        self.add(
            "mariadb-prod", t, f"{stamp},mdb-prod-1,{user},{ip},{conn},0,{op},billing,{obj},{ret}"
        )

    def sshd(self, src: str, t: float, pid: str, msg: str) -> None:
        host = "bastion-prod" if src == "ssh-bastion" else "staging1"
        if src == "ssh-bastion":
            stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds")
            self.add(src, t, f"{stamp} {host} sshd[{pid}]: {msg}")
        else:
            self.add(
                src,
                t,
                json.dumps(
                    {
                        "__REALTIME_TIMESTAMP": str(int(t * 1e6)),
                        "_HOSTNAME": host,
                        "SYSLOG_IDENTIFIER": "sshd",
                        "_PID": pid,
                        # journald's own fields, on every local record
                        "_COMM": "sshd",
                        "_EXE": "/usr/sbin/sshd",
                        "_UID": "0",
                        "MESSAGE": msg,
                        "PRIORITY": "6",
                    }
                ),
            )

    def ssh_login(
        self, src: str, t: float, user: str, ip: str, fails: int = 0, length: float = 1200.0
    ) -> None:
        pid = self.next_pid()
        for k in range(fails):
            self.sshd(
                src, t - 5 + k, pid, f"Failed password for {user} from {ip} port 50{k:03d} ssh2"
            )
        # a stable stand-in fingerprint per user (hash() of a str varies with PYTHONHASHSEED)
        fp = f"SHA256:{zlib.crc32(user.encode()) % 10**12:012d}abcdefghijklmnopqrstuvwxyzAB"
        self.sshd(
            src, t, pid, f"Accepted publickey for {user} from {ip} port 51000 ssh2: ED25519 {fp}"
        )
        self.sshd(src, t + length, pid, f"Disconnected from user {user} {ip} port 51000")

    def sftp(self, t: float, user: str, ip: str, files: list[tuple[str, int]]) -> None:
        pid = self.next_pid()
        stamp = lambda x: datetime.fromtimestamp(x, UTC).isoformat(timespec="microseconds")  # noqa: E731
        self.add(
            "sftp-prod",
            t,
            f"{stamp(t)} sftp-prod sshd[{pid}]: session opened for local user {user} from [{ip}]",
        )
        tt = t
        for path, size in files:
            tt += 2
            self.add(
                "sftp-prod",
                tt,
                f'{stamp(tt)} sftp-prod sshd[{pid}]: open "{path}" flags READ mode 0666',
            )
            tt += max(1.0, size / 50e6)
            self.add(
                "sftp-prod",
                tt,
                f'{stamp(tt)} sftp-prod sshd[{pid}]: close "{path}" bytes read {size} written 0',
            )
        self.add(
            "sftp-prod",
            tt + 1,
            f"{stamp(tt + 1)} sftp-prod sshd[{pid}]: session closed "
            f"for local user {user} from [{ip}]",
        )

    def github(self, t: float, actor: str, ip: str, action: str, repo: str) -> None:
        self.add(
            "github",
            t,
            json.dumps(
                {
                    "@timestamp": int(t * 1000),
                    "action": action,
                    "actor": actor,
                    "actor_ip": ip,
                    "org": "northwind",
                    "repo": repo,
                    "repository_public": False,
                    "business": "northwind",
                    "protocol_name": "http",
                }
            ),
        )

    def git_http(self, t: float, user: str, ip: str, repo: str, push: bool = False) -> None:
        stamp = datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        svc = "git-receive-pack" if push else "git-upload-pack"
        name = repo.split("/")[-1]
        self.add(
            "git-internal",
            t,
            f'{ip} - {user} [{stamp}] "GET /{name}.git/info/refs?service={svc} HTTP/1.1" '
            f'200 312 "-" "git/2.39.2"',
        )
        self.add(
            "git-internal",
            t + 0.5,
            f'{ip} - {user} [{stamp}] "POST /{name}.git/{svc} HTTP/1.1" 200 '
            f'{self.rng.randint(20000, 9000000)} "-" "git/2.39.2"',
        )

    def s3(
        self,
        t: float,
        user: str,
        ip: str,
        bucket: str,
        key: str,
        size: int,
        event: str = "GetObject",
    ) -> None:
        rec = {
            "eventVersion": "1.09",
            "eventTime": datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com",
            "eventName": event,
            "awsRegion": "eu-central-1",
            "sourceIPAddress": ip,
            "userAgent": "aws-cli/2.15",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"AROAEXAMPLE:{user}",
                "arn": f"arn:aws:sts::111122223333:assumed-role/data/{user}",
                "accountId": "111122223333",
            },
            "requestParameters": {"bucketName": bucket, "key": key},
            "additionalEventData": {
                "bytesTransferredOut" if event == "GetObject" else "bytesTransferredIn": size
            },
            "eventCategory": "Data",
            "managementEvent": False,
            "readOnly": event == "GetObject",
            "recipientAccountId": "111122223333",
            "eventType": "AwsApiCall",
            "eventID": f"{self.rng.getrandbits(64):016x}",
        }
        self.ct_batch.append((t, rec))

    def flush_cloudtrail(self) -> None:
        by_hour: dict[int, list[tuple[float, dict[str, object]]]] = {}
        for t, rec in self.ct_batch:
            by_hour.setdefault(int(t // 3600), []).append((t, rec))
        for hour in sorted(by_hour):
            items = sorted(by_hour[hour], key=lambda x: x[0])
            self.add("cloudtrail", items[-1][0], json.dumps({"Records": [r for _t, r in items]}))


def _local(person: Person, day: int, hour: float) -> float:
    base = START + timedelta(days=day)
    local = datetime(base.year, base.month, base.day, tzinfo=ZoneInfo(person.tz))
    return (local + timedelta(hours=hour)).timestamp()


def _workday(day: int) -> bool:
    return (START + timedelta(days=day)).weekday() < 5


def generate(seed: int = 7) -> Month:
    """The month: deterministic for a given seed."""
    rng = random.Random(seed)
    people = _people(rng)
    month = Month(_estate(people))
    w = _Writer(month, rng)
    office = "10.1.1"
    by = {p.pid: p for p in people}
    travel_day = 16  # one legitimate new network (a hotel): an honest false positive

    # -- services, every day -----------------------------------------------------
    for day in range(DAYS):
        base = START.timestamp() + day * 86400
        t = base + 60
        while t < base + 86400:
            w.pg_session("pg-prod", t, "app", "10.20.1.5", reads=0, length=240)
            t += 300 + rng.uniform(-20, 20)
        t = base + 120
        conn = 1000
        while t < base + 86400:
            conn += 1
            w.mariadb(t, "billing_app", "10.20.1.7", "CONNECT", conn=str(conn))
            w.mariadb(t + 1, "billing_app", "10.20.1.7", "READ", "invoices", ret="", conn=str(conn))
            w.mariadb(t + 2, "billing_app", "10.20.1.7", "DISCONNECT", conn=str(conn))
            t += 600 + rng.uniform(-30, 30)
        for h in range(0, 24, 2):
            w.github(
                base + h * 3600 + 300, "ci-bot", "10.20.1.9", "git.clone", REPOS[(day * 12 + h) % 8]
            )
        w.s3(
            base + 3 * 3600,
            "backup",
            "10.20.1.11",
            "nw-prod-exports",
            f"backup/{day}.tar",
            rng.randint(2_000_000_000, 2_200_000_000),
            "PutObject",
        )
        # internet noise on the bastion: a few scattered failures
        for _ in range(rng.randint(3, 8)):
            tt = base + rng.uniform(0, 86400)
            ip = f"198.18.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            pid = w.next_pid()
            w.sshd(
                "ssh-bastion",
                tt,
                pid,
                f"Invalid user {rng.choice(['admin', 'test', 'oracle'])}"
                f" from {ip} port {rng.randint(30000, 60000)}",
            )
            w.sshd(
                "ssh-bastion",
                tt + 1,
                pid,
                f"Failed password for invalid user admin from {ip} port 40000 ssh2",
            )

    # -- people --------------------------------------------------------------------
    grant_id = 0
    for day in range(DAYS):
        if not _workday(day):
            continue
        for i, p in enumerate(people):
            if not p.engineer:
                # non-engineers: a few GitHub views/clones of docs, some S3 reads
                if rng.random() < 0.5:
                    t = _local(p, day, rng.uniform(p.hours[0] + 1, p.hours[1] - 1))
                    ip = f"{office}.{30 + i}" if rng.random() < 0.7 else f"{p.home}.10"
                    if day < 5:
                        ip = f"{office}.{30 + i}" if day % 2 else f"{p.home}.10"
                    w.github(t, p.github, ip, "git.clone", "northwind/docs")
                    w.s3(
                        t + 120,
                        p.pid,
                        ip,
                        "nw-staging-assets",
                        f"reports/{day}-{i}.pdf",
                        rng.randint(100_000, 3_000_000),
                    )
                continue
            if rng.random() < 0.1 and day > 4:
                continue  # a day off
            external = p.vendor is not None
            home_net = f"{p.home}.10"
            ip = home_net if external or rng.random() < 0.4 else f"{office}.{30 + i}"
            if day < 5:  # the first week shows both usual networks
                ip = home_net if (day + i) % 2 or external else f"{office}.{30 + i}"
            start_h = rng.uniform(p.hours[0], p.hours[0] + 1.0)
            t0 = _local(p, day, start_h)
            # staging database work with pgaudit
            for s in range(rng.randint(1, 3)):
                ts = t0 + s * 7200 + rng.uniform(0, 1800)
                w.pg_session(
                    "pg-staging",
                    ts,
                    p.pid,
                    ip,
                    reads=max(2, int(rng.lognormvariate(3.3, 0.3))),
                    length=1500,
                )
            # ssh to staging
            w.ssh_login(
                "ssh-staging",
                t0 + rng.uniform(600, 3600),
                p.pid,
                ip,
                fails=1 if rng.random() < 0.05 else 0,
            )
            # repositories
            own = REPOS[(i * 3) % len(REPOS) : (i * 3) % len(REPOS) + 3] or REPOS[:3]
            for _k in range(rng.randint(1, 4)):
                tt = t0 + rng.uniform(0, 8 * 3600)
                repo = rng.choice(own)
                if rng.random() < 0.5:
                    w.github(tt, p.github, ip, rng.choice(["git.fetch", "git.clone"]), repo)
                else:
                    w.git_http(tt, p.pid, ip, repo)
                w.github(tt + 900, p.github, ip, "git.push", repo)
            # S3 staging assets
            for k in range(rng.randint(0, 3)):
                tt = t0 + rng.uniform(0, 8 * 3600)
                w.s3(
                    tt,
                    p.pid,
                    ip,
                    "nw-staging-assets",
                    f"assets/{k}.bin",
                    int(rng.lognormvariate(16, 0.4)),
                )
            # production work through a grant, for prod-eligible internals
            if p.prod and rng.random() < 0.35:
                g0 = t0 + rng.uniform(3600, 4 * 3600)
                month.grants.append(GrantWindow(p.pid, "production", g0, g0 + 7200))
                grant_id += 1
                w.ssh_login("ssh-bastion", g0 + 120, p.pid, ip, length=1800)
                w.pg_session(
                    "pg-prod", g0 + 600, p.pid, "10.20.5.2", reads=rng.randint(3, 15), length=1200
                )
                if rng.random() < 0.3:
                    conn = str(50000 + grant_id)
                    w.mariadb(g0 + 900, p.pid, "10.20.5.2", "CONNECT", conn=conn)
                    w.mariadb(g0 + 950, p.pid, "10.20.5.2", "READ", "invoices", ret="", conn=conn)
                    w.mariadb(g0 + 1000, p.pid, "10.20.5.2", "DISCONNECT", conn=conn)
                if rng.random() < 0.5:
                    w.sftp(
                        g0 + 1500,
                        p.pid,
                        ip,
                        [
                            (f"/exports/daily-{day}-{k}.csv", int(rng.lognormvariate(18.5, 0.3)))
                            for k in range(rng.randint(1, 3))
                        ],
                    )
                if rng.random() < 0.4:
                    w.s3(
                        g0 + 1700,
                        p.pid,
                        ip,
                        "nw-prod-exports",
                        f"exports/{day}.csv",
                        int(rng.lognormvariate(17, 0.3)),
                    )
            if p.pid == "hugo" and day == travel_day:
                w.ssh_login("ssh-staging", t0 + 7000, p.pid, "100.99.44.10")
                month.incidents.append(
                    _inc("legit-travel", set(), t0 + 6000, t0 + 8000, actor="hugo")
                )

    # -- injected incidents --------------------------------------------------------
    def day_at(day: int, person: str, hour: float) -> float:
        return _local(by[person], day, hour)

    # 1. a vendor developer on the production bastion (no grant: externals never have one)
    t = day_at(8, "kasia", 11.0)
    w.ssh_login("ssh-bastion", t, "kasia", "100.80.1.10", length=900)
    month.incidents.append(
        _inc(
            "external-ssh-prod",
            {"external_production_access", "production_login_without_grant"},
            t,
            t + 900,
            actor="kasia",
        )
    )
    # 2. a vendor developer reads the production bucket
    t = day_at(15, "li", 14.0)
    for k in range(3):
        w.s3(
            t + k * 30,
            "li",
            "100.81.1.10",
            "nw-prod-exports",
            f"exports/customers-{k}.csv",
            5_000_000,
        )
    month.incidents.append(
        _inc("external-s3-prod", {"external_production_access"}, t, t + 90, actor="li")
    )
    # 3. an internal engineer logs into the production database without a grant
    t = day_at(9, "dave", 10.5)
    w.pg_session("pg-prod", t, "dave", "10.20.5.2", reads=4, length=600)
    month.incidents.append(
        _inc("no-grant-pg", {"production_login_without_grant"}, t, t + 60, actor="dave")
    )
    # 4. ... and into MariaDB
    t = day_at(23, "erin", 15.0)
    w.mariadb(t, "erin", "10.20.5.2", "CONNECT", conn="90001")
    w.mariadb(t + 30, "erin", "10.20.5.2", "READ", "invoices", ret="", conn="90001")
    w.mariadb(t + 60, "erin", "10.20.5.2", "DISCONNECT", conn="90001")
    month.incidents.append(
        _inc("no-grant-mariadb", {"production_login_without_grant"}, t, t + 60, actor="erin")
    )
    # 5. 2 AM: production data read by an internal engineer (with an approved grant)
    t = day_at(17, "frank", 2.1)
    month.grants.append(GrantWindow("frank", "production", t - 300, t + 3600))
    w.pg_session("pg-prod", t, "frank", "10.20.5.2", reads=12, length=900)
    month.incidents.append(
        _inc("off-hours-prod", {"off_hours_activity"}, t, t + 900, actor="frank")
    )
    # 6. 3 AM in Singapore: a vendor developer reads staging data
    t = day_at(24, "wei", 3.0)
    w.pg_session("pg-staging", t, "wei", "100.81.2.10", reads=20, length=900)
    month.incidents.append(
        _inc("off-hours-vendor", {"off_hours_activity"}, t, t + 900, actor="wei")
    )
    # 7. a vendor account used from a network never seen for it
    t = day_at(18, "marek", 11.0)
    w.ssh_login("ssh-staging", t, "marek", "100.120.7.77", length=600)
    w.github(t + 120, "marek-acme", "100.120.7.77", "git.clone", "northwind/api")
    month.incidents.append(_inc("new-network", {"first_seen_network"}, t, t + 200, actor="marek"))
    # 8. password guessing on the bastion
    t = START.timestamp() + 10 * 86400 + 3 * 3600 + 17
    for k in range(60):
        pid = w.next_pid()
        user = ("root", "admin", "ubuntu", "postgres")[k % 4]
        w.sshd(
            "ssh-bastion",
            t + k * 3,
            pid,
            f"Failed password for invalid user {user} from 203.0.113.50 port {41000 + k} ssh2",
        )
    month.incidents.append(
        _inc("burst-bastion", {"failed_login_burst"}, t, t + 180, src_ip="203.0.113.50")
    )
    # 9. password spraying against real accounts on staging
    t = START.timestamp() + 25 * 86400 + 13 * 3600
    for k in range(26):
        user = people[k % 10].pid
        w.sshd(
            "ssh-staging",
            t + k * 18,
            w.next_pid(),
            f"Failed password for {user} from 192.0.2.99 port {42000 + k} ssh2",
        )
    month.incidents.append(
        # ten real accounts' names from one address: a spray too
        _inc(
            "burst-staging",
            {"failed_login_burst", "failed_login_spray"},
            t,
            t + 470,
            src_ip="192.0.2.99",
        )
    )
    # 10. a huge download over sftp (30 GB against a few hundred MB a day)
    t = day_at(18, "gina", 13.0)
    month.grants.append(GrantWindow("gina", "production", t - 600, t + 7200))
    w.sftp(t, "gina", f"{office}.36", [(f"/exports/full-{k}.csv", 6_000_000_000) for k in range(5)])
    month.incidents.append(_inc("big-download", {"large_read_volume"}, t, t + 1000, actor="gina"))
    # 11. thousands of reads on staging by a vendor developer
    t = day_at(21, "piotr", 10.0)
    w.pg_session("pg-staging", t, "piotr", "100.80.3.10", reads=3000, length=3000)
    month.incidents.append(_inc("many-reads", {"large_read_volume"}, t, t + 3000, actor="piotr"))
    # 12. a vendor developer clones 40 repositories in 20 minutes
    t = day_at(10, "piotr", 16.0)
    for k, repo in enumerate(REPOS[:28] + REPOS[:12]):
        w.github(t + k * 30, "piotr-acme", "100.80.3.10", "git.clone", repo)
    month.incidents.append(
        _inc("mass-clone-github", {"many_repository_clones"}, t, t + 1200, actor="piotr")
    )
    # 13. an internal engineer fetches 15 repositories from the internal git server
    t = day_at(24, "hugo", 14.0)
    for k, repo in enumerate(REPOS[10:25]):
        w.git_http(t + k * 100, "hugo", f"{office}.37", repo)
    month.incidents.append(
        _inc("mass-clone-git", {"many_repository_clones"}, t, t + 1600, actor="hugo")
    )
    # 14. the production database log goes silent for five hours
    gap_lo = START.timestamp() + 16 * 86400 + 9 * 3600
    gap_hi = gap_lo + 5 * 3600
    month.lines["pg-prod"] = [x for x in month.lines["pg-prod"] if not gap_lo <= x[0] < gap_hi]
    month.incidents.append(
        _inc("pg-prod-gap", {"log_source_gap"}, gap_hi - 1, gap_hi + 400, source="pg-prod")
    )
    # 15. pgaudit switched off on staging
    t = day_at(9, "ivan", 14.0)
    w.pg_session(
        "pg-staging",
        t,
        "ivan",
        f"{office}.38",
        reads=2,
        statements=["MISC,ALTER SYSTEM,,,ALTER SYSTEM SET pgaudit.log = 'none'"],
        length=300,
    )
    month.incidents.append(_inc("pgaudit-off", {"audit_config_change"}, t, t + 300, actor="ivan"))
    # 16. branch protection removed on GitHub
    t = day_at(25, "judy", 11.0)
    w.github(t, "judy-nw", f"{office}.39", "protected_branch.destroy", "northwind/api")
    month.incidents.append(
        _inc("branch-protection", {"audit_config_change"}, t, t + 60, actor="judy")
    )
    # 17. MariaDB audit logging switched off (inside an approved grant)
    t = day_at(18, "carl", 11.0)
    month.grants.append(GrantWindow("carl", "production", t - 300, t + 3600))
    w.mariadb(t, "carl", "10.20.5.2", "CONNECT", conn="90002")
    w.mariadb(
        t + 20, "carl", "10.20.5.2", "QUERY", "'SET GLOBAL server_audit_logging=OFF'", conn="90002"
    )
    w.mariadb(t + 40, "carl", "10.20.5.2", "DISCONNECT", conn="90002")
    month.incidents.append(
        _inc("mariadb-audit-off", {"audit_config_change"}, t, t + 60, actor="carl")
    )

    w.flush_cloudtrail()
    for lines in month.lines.values():
        lines.sort(key=lambda x: x[0])
    return month


def _inc(id_: str, rules: set[str], start: float, end: float, **match: str) -> Incident:
    return Incident(id_, frozenset(rules), start, end, tuple(sorted(match.items())))


def score(month: Month, findings: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    """Per-rule precision, recall and false alerts per week against the labels."""
    rules = sorted(
        {r for i in month.incidents for r in i.rules} | {str(f["rule"]) for f in findings}
    )
    out: dict[str, dict[str, float]] = {}
    for rule in rules:
        mine = [f for f in findings if f["rule"] == rule]
        expected = [i for i in month.incidents if rule in i.rules]
        hit: set[str] = set()
        false = 0
        for f in mine:
            ok = [i for i in expected if _matches(i, f)]
            if ok:
                hit.update(i.id for i in ok)
            else:
                false += 1
        tp = len(mine) - false
        out[rule] = {
            "alerts": len(mine),
            "true_alerts": tp,
            "false_alerts": false,
            "false_per_week": false / WEEKS,
            "incidents": len(expected),
            "detected": len(hit),
            "precision": tp / len(mine) if mine else 1.0,
            "recall": len(hit) / len(expected) if expected else 1.0,
        }
    return out


def _matches(inc: Incident, f: dict[str, object]) -> bool:
    t = datetime.fromisoformat(str(f["time"]).replace("Z", "+00:00")).timestamp()
    if not inc.start - 60 <= t <= inc.end + 3600:
        return False
    return all(str(f.get(k)) == v for k, v in inc.match)


__all__ = ["DAYS", "SOURCES", "WEEKS", "Incident", "Month", "generate", "score"]
