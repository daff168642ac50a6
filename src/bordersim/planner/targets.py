"""The targets as chance constraints per sector and week, evaluated on replications.

For each replication, sector and target week:

- ``within_72h``: the *held-or-left* share, 1 - (exits after more than 72 h + people still held
  past 72 h at the week's end) / (exits + people still held past 72 h at the week's end). Counting
  only the week's exits (CBP's book-out measure) would call a sector that stops processing
  "compliant": nobody leaves, so nobody leaves late. People still held past 72 h at the end of day
  d are at least the mean occupancy of day d less everyone apprehended on days d-3 to d (a lower
  bound from the daily counts: whoever remains arrived more than 72 h before the day's end).
- ``children_within_72h``: the same for unaccompanied children, by their exits (the daily counts
  do not split occupancy by group), with children waiting for an HHS bed at the week's end counted
  as held past 72 h when the wait exceeds the week's exits (a lower bound again).
- ``gotaways`` (optional): got-aways / attempts in the week at most the cap.

A constraint holds in a replication when its value meets the target; its probability is the share
of replications where it holds. Weeks with nobody to count hold trivially.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bordersim.planner.spec import Targets
from bordersim.results.schema import RunResult

KINDS = ("within_72h", "children_within_72h", "gotaways")


@dataclass
class Evaluation:
    """Constraint values and outcomes of one candidate on R replications."""

    values: np.ndarray  # [R, N, S, W] value of each kind (share, or got-away share)
    holds: np.ndarray  # [R, N, S, W] bool
    active: np.ndarray  # [N] bool: the kind is a target of the plan
    level: np.ndarray  # [N] the target of each kind
    at_most: np.ndarray  # [N] bool: the value must stay at most the level (else at least)

    @property
    def probability(self) -> np.ndarray:
        """[N, S, W] share of replications where the constraint holds."""
        return self.holds.mean(axis=0)

    @property
    def n_replications(self) -> int:
        return int(self.holds.shape[0])

    def successes(self) -> np.ndarray:
        return self.holds.sum(axis=0)

    def __repr__(self) -> str:
        """One line, as a `Certificate`'s: the dataclass's own repr printed every replication's
        value of every target, sector and week (``result.base.evaluation`` in a notebook)."""
        from bordersim.words import counted

        replications, kinds, sectors, weeks = self.holds.shape
        active = [k for k in range(kinds) if self.active[k]]
        names = KINDS if kinds == len(KINDS) else tuple(f"target {k}" for k in range(kinds))
        targets = ", ".join(
            f"{names[k]} {'at most' if self.at_most[k] else 'at least'} {float(self.level[k]):g}"
            for k in active
        )
        held = self.holds[:, active]
        return (
            f"{type(self).__name__}({targets or 'no target'}; held in {int(held.sum()):,} of "
            f"{counted(int(held.size), 'replication-sector-week')}; "
            f"{counted(replications, 'replication')}, {counted(sectors, 'sector')}, "
            f"{counted(weeks, 'week')})"
        )


def _weekly(values: np.ndarray, weeks: tuple[tuple[int, int], ...]) -> np.ndarray:
    """[R, D, S] daily values to [R, S, W] weekly sums."""
    return np.stack([values[:, a:b].sum(axis=1) for a, b in weeks], axis=-1)


def _at_week_end(values: np.ndarray, weeks: tuple[tuple[int, int], ...]) -> np.ndarray:
    return np.stack([values[:, b - 1] for _, b in weeks], axis=-1)


def held_past_72h(result: RunResult) -> np.ndarray:
    """[R, D, S] lower bound on people held more than 72 h at each day's end."""
    occupancy = result.metric("occupancy_mean")
    encounters = result.metric("encounters")
    recent = encounters.copy()
    for lag in range(1, 4):
        recent[:, lag:] += encounters[:, :-lag]
    # the first three reported days also count the warm-up's arrivals as recent: no claim there
    recent[:, :3] = np.inf
    return np.maximum(occupancy - recent, 0.0)


def evaluate(result: RunResult, weeks: tuple[tuple[int, int], ...], targets: Targets) -> Evaluation:
    exits = _weekly(result.metric("custody_exits"), weeks)
    over = _weekly(result.metric("custody_exits_over_72h"), weeks)
    held = _at_week_end(held_past_72h(result), weeks)
    denominator = exits + held
    share = np.where(denominator > 0, 1.0 - (over + held) / np.maximum(denominator, 1e-9), 1.0)
    uac_exits = _weekly(result.metric("uac_exits"), weeks)
    uac_over = _weekly(result.metric("uac_exits_over_72h"), weeks)
    waiting = _at_week_end(result.metric("waiting_for_hhs"), weeks)
    uac_held = np.maximum(waiting - uac_exits, 0.0)
    uac_den = uac_exits + uac_held
    uac_share = np.where(uac_den > 0, 1.0 - (uac_over + uac_held) / np.maximum(uac_den, 1e-9), 1.0)
    attempts = _weekly(result.metric("attempts"), weeks)
    gotaways = _weekly(result.metric("gotaways"), weeks)
    gotaway_share = np.where(attempts > 0, gotaways / np.maximum(attempts, 1e-9), 0.0)
    values = np.stack([share, uac_share, gotaway_share], axis=1)
    cap = targets.gotaway_share_max
    holds = np.stack(
        [
            share >= targets.within_72h - 1e-12,
            uac_share >= targets.children_within_72h - 1e-12,
            gotaway_share <= (cap if cap is not None else 1.0) + 1e-12,
        ],
        axis=1,
    )
    active = np.array([True, True, cap is not None])
    level = np.array(
        [targets.within_72h, targets.children_within_72h, cap if cap is not None else 1.0]
    )
    return Evaluation(
        values=values,
        holds=holds,
        active=active,
        level=level,
        at_most=np.array([False, False, True]),
    )
