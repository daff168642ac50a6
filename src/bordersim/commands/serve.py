"""`bordersim serve`: the analyst's workbench in a browser (docs/web.md)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

STORE_HELP = (
    "Store file, or a postgresql://...?results=FOLDER URL of a shared store (default: "
    "$BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)."
)


def serve_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback only by default)."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="Token every browser must present; required with a --host beyond loopback "
        "(default: $BORDERSIM_TOKEN).",
    ),
    scenarios: Path = typer.Option(  # noqa: B008
        Path("scenarios"), "--scenarios", help="Scenario folder; variants go to its variants/."
    ),
    plans: Path = typer.Option(  # noqa: B008
        Path("plans"), "--plans", help="Plan-file folder for the plan page (bordersim plan)."
    ),
    out: Path = typer.Option(Path("out"), "--out", help="Report folder."),  # noqa: B008
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Open the workbench: scenario editor, runs and comparisons as jobs, dashboards, downloads."""
    import uvicorn
    from rich.console import Console

    from bordersim.errors import BordersimError
    from bordersim.store import open_catalog, store_location
    from bordersim.web.app import create_app
    from bordersim.web.settings import WebSettings, check_binding

    token = token or os.environ.get("BORDERSIM_TOKEN") or None
    check_binding(host, token)
    if not scenarios.is_dir():
        raise BordersimError("no such scenario folder", where=str(scenarios))
    location = store_location(store)
    # created (or reached) and migrated once, before the worker and pages use it
    open_catalog(location).close()
    settings = WebSettings(
        scenarios_dir=scenarios.resolve(),
        store=location,
        out_dir=out.resolve(),
        token=token,
        plans_dir=plans.resolve() if plans.is_dir() else None,
    )
    shown = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    Console().print(f"bordersim workbench on {shown} (Ctrl-C stops it)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
