"""`python -m bordersim`: the `bordersim` command, for an environment without its script on PATH.

Signals are handled before the heavier imports of `bordersim.cli`, as the `bordersim` script
does: a Ctrl-C while they load ends the command cleanly too.
"""

from __future__ import annotations

from bordersim import interrupts

if __name__ == "__main__":
    interrupts.install()

    from bordersim.cli import main

    main()
