"""Constants and small rules of the dispatch (docs/model.md step 2) that both engines must share
exactly (the event engine compiles the rules with Numba)."""

from __future__ import annotations

from typing import Any

from bordersim.model.dimensions import Task

# Custody watch posts are `ceil(occupancy / persons_per_watch_staff - WATCH_POST_TOLERANCE)`: the
# tolerance keeps a ratio that is a whole number up to rounding (the flow engine's occupancy is a
# float sum) from asking for one more post.
WATCH_POST_TOLERANCE = 1e-6

# Plain ints, which Numba reads as constants.
_WATCH = int(Task.CUSTODY_WATCH)
_DETERMINATION = int(Task.DETERMINATION)


def watch_before_processing(task_fill_order: Any) -> bool:
    """Whether `task_fill_order` (a sequence of `Task` numbers) lists custody watch before
    determination: then the watch posts are staffed first, as mandatory posts; otherwise in their
    place among the work that waits."""
    for task in task_fill_order:
        if task == _WATCH:
            return True
        if task == _DETERMINATION:
            return False
    return False
