"""The one error type users see.

Every bad input (scenario, data file, parameter) is reported as a `BordersimError` whose message
names what is wrong and where: the file, the key path or sheet and row, the value and the rule.
The CLI prints it once, without a traceback, and exits with status 2.
"""

from __future__ import annotations

#: A message is one line a user reads: longer ones are cut (the place keeps its end, where the
#: file name is; the message keeps its start, where the key and the rule are).
MAX_WHERE_CHARS = 120
MAX_MESSAGE_CHARS = 300


def _one_line(text: str) -> str:
    return " ".join(text.split())


class BordersimError(Exception):
    """An input or request that bordersim refuses, with a message meant for the user."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        if where is not None:
            where = _one_line(where)
            if len(where) > MAX_WHERE_CHARS:
                where = "..." + where[-(MAX_WHERE_CHARS - 3) :]
        self.where = where
        text = _one_line(f"{where}: {message}" if where else message)
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[: MAX_MESSAGE_CHARS - 3] + "..."
        super().__init__(text)


class ScenarioError(BordersimError):
    """A scenario file that cannot be loaded, validated or compiled."""


class DataFileError(BordersimError):
    """An official data file that does not have the published layout or content."""


class ModelError(BordersimError):
    """A request an engine cannot run (unstable queue, impossible parameter, ...)."""


class StoreFileError(BordersimError):
    """A result file the store's catalog records that is missing or changed on disk: the
    store's fault, not the request's (the workbench answers 500, the CLI exits 2).

    `public` is the message without the server's own paths, which the workbench shows: a user
    of a shared workbench has no use for them and should not learn the server's layout."""

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public if public is not None else message
