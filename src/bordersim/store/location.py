"""Where the store lives: the `--store` option, else `BORDERSIM_STORE`, else a local default."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

STORE_ENV_VAR = "BORDERSIM_STORE"
DEFAULT_STORE = Path(".bordersim") / "bordersim.duckdb"


def resolve_store_path(path: str | Path | None = None) -> Path:
    """The store file: `path` if given, else `$BORDERSIM_STORE`, else ./.bordersim/bordersim.duckdb.

    Relative paths are taken from the current directory. The folder is not created here.
    """
    if path is not None and str(path) != "":
        refuse_other_urls(str(path), where="--store")
        chosen = Path(path)
    elif os.environ.get(STORE_ENV_VAR):
        if not os.environ[STORE_ENV_VAR].strip():
            # spaces named a store file of that name in the working folder
            from bordersim.errors import BordersimError

            raise BordersimError(
                "is blank; name the store in it, or unset it for the default "
                "(./.bordersim/bordersim.duckdb)",
                where=STORE_ENV_VAR,
            )
        refuse_other_urls(os.environ[STORE_ENV_VAR], where=STORE_ENV_VAR)
        chosen = Path(os.environ[STORE_ENV_VAR])
    else:
        chosen = DEFAULT_STORE
    if str(chosen).startswith(("postgresql:/", "postgres:/")):
        # a shared store's URL (a Path option keeps one of its slashes): not a file
        from bordersim.errors import BordersimError

        raise BordersimError(
            "this command needs an embedded store file: official data (data import, data show, "
            "calibrate, forecast, and main-job, which imports them) use one; a PostgreSQL store "
            "holds runs and sweeps",
            where="--store" if path else STORE_ENV_VAR,
        )
    return chosen.expanduser().absolute()


#: A URL's scheme (`mysql://`, `sqlite:///`; a path option keeps one of its slashes), at least
#: two letters so that a Windows drive (`C:/`) is a path.
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")


def refuse_other_urls(location: str, *, where: str) -> None:
    """A URL of a database other than PostgreSQL, refused as one: taken for a path, it was
    said to be a missing store file under the working folder, a slash dropped."""
    if _URL_SCHEME.match(location) and not location.startswith(("postgresql:/", "postgres:/")):
        from bordersim.errors import BordersimError

        raise BordersimError(
            f"{location!r} is not a store bordersim can open: give a DuckDB store file or a "
            "postgresql:// URL",
            where=where,
        )


def made_by_opening(location: Path) -> list[Path]:
    """What opening a store at `location` would make, innermost first: the store file, its
    write-ahead log and the folders above it that are not there yet; nothing if a store (or a
    file, or a link) is there already. A command that fails removes them (`remove_made`)."""
    if location.exists() or location.is_symlink():
        return []
    made = [location, location.with_name(location.name + ".wal")]
    for folder in location.parents:
        if folder.exists() or folder.is_symlink():
            break
        made.append(folder)
    return made


def remove_made(paths: list[Path]) -> None:
    """Remove what `made_by_opening` listed (files, then the folders, if empty); what is not
    there, or cannot be removed (a folder that holds something else now), is left."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
