"""What a workbench serves: where scenarios, the store and reports are, and its limits."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from bordersim.errors import BordersimError

#: Largest request body accepted (a scenario form is a few kB).
MAX_BODY_BYTES = 64 * 1024
#: Names a browser may use for a scenario or variant: no separators, no dots first.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: NAME_PATTERN in words, for the messages that refuse or leave out a name.
NAME_RULE = "1-64 letters, digits, '-' or '_', starting with a letter or digit"
#: Run ids as `store.runs.new_run_id` makes them.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: Replications a browser may ask for in one job (the workbench is for exploring).
MAX_REPLICATIONS = 200


@dataclass(frozen=True)
class WebSettings:
    scenarios_dir: Path  # shipped scenarios; variants are saved in its variants/ folder
    #: The store: an embedded store's file, or a shared store's postgresql:// URL (written by
    #: the worker only).
    store: Path | str
    out_dir: Path  # reports: out/<scenario>/<run id>/report.html
    token: str | None = None  # required on every request when set (shared mode)
    max_body_bytes: int = MAX_BODY_BYTES
    plans_dir: Path | None = None  # plan files (`bordersim plan --plan`); none: no plan library

    @property
    def store_is_empty(self) -> bool:
        """No embedded store file yet (it holds no runs); a shared store always exists."""
        return isinstance(self.store, Path) and not self.store.is_file()

    @property
    def plans_out(self) -> Path:
        """Where plans made in the workbench go: out/plans/<plan id>/."""
        return self.out_dir / "plans"

    @property
    def variants_dir(self) -> Path:
        return self.scenarios_dir / "variants"

    @property
    def scenarios_shown(self) -> str:
        """The scenario folder as the pages and saved variants name it, for `bordersim run`:
        relative to where the workbench started when under it (`scenarios`), else its whole
        path; a shared workbench names none of its folders (`scenarios`)."""
        return self.shown_folder(self.scenarios_dir, "scenarios")

    def shown_folder(self, folder: Path, shared_name: str) -> str:
        """`folder` relative to where the workbench started when under it, else its whole path;
        `shared_name` on a shared workbench, which names none of its folders."""
        if self.token is not None:
            return shared_name
        whole = folder.resolve()
        try:
            return whole.relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return str(whole)


#: An absolute path in a message: a slash that follows no word, dot, colon or slash (so not a
#: URL's path, nor a relative path's inner slash), its folders, and its last name.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/:,;'\"()]+/)*([^\s/:,;'\"()]+)")


def without_server_paths(message: str, settings: WebSettings) -> str:
    """A message as a browser may see it: a path under the scenario folder relative to it
    (`variants/x.toml`), any other absolute path by its last name only.

    The CLI's messages name whole paths, for the machine's owner; a user of a shared workbench
    must not learn the server's folders from a failed job or a refused request."""
    for folder in (settings.scenarios_dir, settings.out_dir):
        for form in {str(folder.absolute()), str(folder.resolve())}:
            if form != "/":
                message = message.replace(form.rstrip("/") + "/", "")
    return without_absolute_paths(message)


def without_absolute_paths(message: str) -> str:
    """Each absolute path in the message by its last name only."""
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1), message)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise BordersimError(
            f"--host {host} shares the workbench beyond this machine: give --token (or set "
            "BORDERSIM_TOKEN), which every browser must then present"
        )
    if token is not None and len(token) < 16:
        raise BordersimError("--token must be at least 16 characters")
