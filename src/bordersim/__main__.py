"""`python -m bordersim`: the `bordersim` command, for an environment without its script on PATH.

Signals are handled before the heavier imports of `bordersim.cli`, as the `bordersim` script
does: a Ctrl-C while they load ends the command cleanly too.
"""

from __future__ import annotations

from bordersim import interrupts

if __name__ == "__main__":
    interrupts.install()

    import sys

    from bordersim.cli import main

    # as the `bordersim` script ends: a command's exit status returned, not raised (`store
    # verify` of a damaged file exits 1), is the process's too
    sys.exit(main())
