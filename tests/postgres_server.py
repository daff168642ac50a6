"""A real PostgreSQL server for the tests: Debian's packaged binaries (`apt-get install
postgresql`), initialised into a temporary folder and started on a Unix socket there, stopped at
the end.

The binaries are found on PATH or under /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` user (which the Debian package makes).
When no server can be started, `start()` raises `Unavailable` with the reason: the tests' fixture
skips then, except where `BORDERSIM_REQUIRE_POSTGRES=1` (set by `.ci/run`), where it fails.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REQUIRE_ENV_VAR = "BORDERSIM_REQUIRE_POSTGRES"


class Unavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


@dataclass
class Server:
    folder: Path
    bin_dir: Path
    user: str | None  # the user the server runs as, when not this process's

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port=5432"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def new_store_url(self, results: Path) -> str:
        """A fresh database on the server, as a store URL with `results` as its results folder."""
        url = self.create_database(f"bordersim_{secrets.token_hex(4)}")
        return f"{url}&results={results}"

    def stop(self) -> None:
        _run(
            self,
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bin_dir() -> Path:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    raise Unavailable("no PostgreSQL binaries (apt-get install -y postgresql)")


def start() -> Server:
    bin_dir = find_bin_dir()
    user = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser to start the server as postgres")
        user = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="bordersim-pg-"))
    server = Server(folder, bin_dir, user)
    (folder / "socket").mkdir()
    if user is not None:
        shutil.chown(folder, user)
        shutil.chown(folder / "socket", user)
    try:
        _run(
            server,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )
        options = f"-c listen_addresses='' -k {folder / 'socket'} -p 5432 -c fsync=off"
        _run(
            server,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    except (OSError, subprocess.CalledProcessError) as err:
        log = folder / "server.log"
        tail = log.read_text()[-500:] if log.is_file() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"the server did not start ({err}) {tail}") from None
    return server


def _run(server: Server, command: list[str], check: bool = True) -> None:
    if server.user is not None:
        command = ["runuser", "-u", server.user, "--", *command]
    subprocess.run(command, check=check, capture_output=True, timeout=120)
