"""`bordersim serve`: the analyst's workbench in a browser (docs/web.md)."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import typer

from bordersim import interrupts
from bordersim.commands import stripped
from bordersim.errors import BordersimError

STORE_HELP = (
    "Store file, or a postgresql://...?results=FOLDER URL of a shared store (default: "
    "$BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)."
)


def serve_command(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        callback=stripped,
        help="Address to listen on (loopback only by default).",
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Token every browser must present; required with a --host beyond loopback "
        "(default: $BORDERSIM_TOKEN).",
    ),
    scenarios_given: str | None = typer.Option(
        None,
        "--scenarios",
        metavar="FOLDER",
        help="Scenario folder (default: scenarios/); variants go to its variants/.",
    ),
    plans_given: str | None = typer.Option(
        None,
        "--plans",
        metavar="FOLDER",
        help="Plan-file folder for the plan page (bordersim plan; default: plans/ if there is "
        "one).",
    ),
    out_given: str = typer.Option("out", "--out", metavar="FOLDER", help="Report folder."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Open the workbench: scenario editor, runs and comparisons as jobs, dashboards, downloads."""
    import uvicorn
    from rich.console import Console

    from bordersim.commands import given_folder
    from bordersim.store import open_catalog, store_location
    from bordersim.web.app import create_app
    from bordersim.web.settings import WebSettings, check_binding

    token = token or os.environ.get("BORDERSIM_TOKEN") or None
    check_binding(host, token)
    # an empty folder was the current folder: its files listed as scenarios, variants and
    # reports written into it
    scenarios = given_folder(scenarios_given, "--scenarios") or Path("scenarios")
    plans = given_folder(plans_given, "--plans")
    out = given_folder(out_given, "--out") or Path("out")
    # each refusal names its option: "scenarios: no such scenario folder" named none, though
    # it was the default of --scenarios (bordersim serve run from another folder)
    if not scenarios.is_dir():
        option = "--scenarios"
        if scenarios_given is None:
            option += ", by default scenarios/ in the current folder: give --scenarios FOLDER"
        _refuse_folder(scenarios, "scenario", option)
    if plans is not None and not plans.is_dir():
        # a --plans given and mistyped left the plan page saying it had no plan files
        _refuse_folder(plans, "plan", "--plans")
    plans = plans if plans is not None else Path("plans")  # the default: used if it is there
    _check_out_folder(out)
    # the address is taken before the store is made or the worker started, so a port in use or
    # a host that is not this machine's is refused with nothing made
    listening = listening_socket(host, port)
    location = store_location(store)
    made = _new_store_words(location)
    # created (or reached) and migrated once, before the worker and pages use it
    open_catalog(location).close()
    settings = WebSettings(
        scenarios_dir=scenarios.resolve(),
        store=location,
        out_dir=out.resolve(),
        token=token,
        plans_dir=plans.resolve() if plans.is_dir() else None,
    )
    shown_host = f"[{host}]" if ":" in host else host
    shown = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "")
    if made:  # a mistyped --store opened an empty workbench without a word
        # a path is printed as it is: `[bold]` or `[/x]` in it is no style (or a MarkupError)
        Console().print(made, markup=False, highlight=False, soft_wrap=True)
    # the address as it is, on one line, to be copied whole: a token's `[bold]` was read as a
    # style and dropped, and a long address was wrapped
    Console().print(
        f"bordersim workbench on {shown} (Ctrl-C stops it)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    # Ctrl-C is how the workbench is stopped: the generic last line said "nothing was marked
    # complete", where the runs its jobs finished were
    interrupts.describe(
        "the workbench stopped; any job still under way did not finish (a run it had started is "
        "recorded as failed)"
    )
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run(sockets=[listening])


def _new_store_words(location: Path | str) -> str | None:
    """What serve says of a store file it is about to make (with the folders it makes for it),
    or None for a store that is there, or a shared one."""
    if isinstance(location, str) or location.exists():
        return None
    topmost_new = location.parent
    while not topmost_new.parent.exists() and topmost_new.parent != topmost_new:
        topmost_new = topmost_new.parent
    folder = f" (with its folder {topmost_new})" if not topmost_new.exists() else ""
    return f"new store {location}{folder}: it holds no runs yet (--store names another)"


def _refuse_folder(folder: Path, kind: str, option: str) -> None:
    """Refuse a folder option that is a file, or is not there, naming the option."""
    said = f"is a file, not a {kind} folder" if folder.exists() else f"no such {kind} folder"
    raise BordersimError(f"{said} ({option})", where=str(folder))


def _check_out_folder(out: Path) -> None:
    """Refuse an --out that is a file, or lies under one: the workbench started and each job
    then failed as it wrote its report there. A folder not made yet is made by the first job."""
    existing = out
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        said = "is a file, not a report folder"
        if existing != out:
            said = f"cannot hold the report folder: {existing} is a file, not a folder"
        raise BordersimError(f"{said} (--out)", where=str(out))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host` and `port` (as uvicorn binds one: IPv6 for an address with a
    colon), or one line saying why not: uvicorn said it after the "workbench on" line, as
    "ERROR: [Errno 98] error while attempting to bind on address ...", and exited 3."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        found = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as err:
        reason = err.strerror if isinstance(err, socket.gaierror) else "not a host name"
        raise BordersimError(
            f"--host {host}: not an address this machine can listen on ({reason})"
        ) from err
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(found[0][4])
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise BordersimError(
                f"--port {port}: another program already listens on {host}:{port}"
                "; give another --port"
            ) from err
        if err.errno == errno.EACCES:
            # the port is what needs the privilege (below 1024 on most systems), not the host:
            # this was said "--host 127.0.0.1: not an address this machine can listen on"
            raise BordersimError(
                f"--port {port}: this user may not listen on port {port} (permission denied: "
                "a port below 1024 needs administrator privileges on most systems); give "
                "another --port, such as the default 8000"
            ) from err
        raise BordersimError(
            f"--host {host}: not an address this machine can listen on ({err.strerror})"
        ) from err
    return sock


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
