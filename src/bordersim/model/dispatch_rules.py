"""Constants of the dispatch rule (docs/model.md step 2) that both engines must share exactly."""

from __future__ import annotations

# Custody watch posts are `ceil(occupancy / persons_per_watch_staff - WATCH_POST_TOLERANCE)`: the
# tolerance keeps a ratio that is a whole number up to rounding (the flow engine's occupancy is a
# float sum) from asking for one more post.
WATCH_POST_TOLERANCE = 1e-6
