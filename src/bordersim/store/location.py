"""Where the store lives: the `--store` option, else `BORDERSIM_STORE`, else a local default."""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV_VAR = "BORDERSIM_STORE"
DEFAULT_STORE = Path(".bordersim") / "bordersim.duckdb"


def resolve_store_path(path: str | Path | None = None) -> Path:
    """The store file: `path` if given, else `$BORDERSIM_STORE`, else ./.bordersim/bordersim.duckdb.

    Relative paths are taken from the current directory. The folder is not created here.
    """
    if path is not None and str(path) != "":
        chosen = Path(path)
    elif os.environ.get(STORE_ENV_VAR):
        chosen = Path(os.environ[STORE_ENV_VAR])
    else:
        chosen = DEFAULT_STORE
    if str(chosen).startswith(("postgresql:/", "postgres:/")):
        # a shared store's URL (a Path option keeps one of its slashes): not a file
        from bordersim.errors import BordersimError

        raise BordersimError(
            "this command needs an embedded store file: official data (data import, data show, "
            "calibrate, forecast) use one; a PostgreSQL store holds runs and sweeps",
            where="--store" if path else STORE_ENV_VAR,
        )
    return chosen.expanduser().absolute()
