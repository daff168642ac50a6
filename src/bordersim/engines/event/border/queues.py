"""Intrusive queues and a time heap for the border kernel.

Every crossing attempt is one row of the kernel's per-attempt arrays, and a row waits in at most
one line at a time (field, intake, determination, port, ICE, HHS, or the bucket of its future
re-attempt hour). So all lines share one `nxt` link array: pushing and popping are O(1), nothing
is copied, and no line needs a capacity of its own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NIL = -1


@njit(cache=True)
def push_tail(head: np.ndarray, tail: np.ndarray, q: int, nxt: np.ndarray, row: int) -> None:
    nxt[row] = NIL
    if tail[q] == NIL:
        head[q] = row
    else:
        nxt[tail[q]] = row
    tail[q] = row


@njit(cache=True)
def pop_head(head: np.ndarray, tail: np.ndarray, q: int, nxt: np.ndarray) -> int:
    row = head[q]
    head[q] = nxt[row]
    if head[q] == NIL:
        tail[q] = NIL
    nxt[row] = NIL
    return int(row)


@njit(cache=True)
def unlink_after(
    head: np.ndarray, tail: np.ndarray, q: int, nxt: np.ndarray, prev: int, row: int
) -> None:
    """Remove `row`, whose predecessor is `prev` (NIL when `row` is the head)."""
    if prev == NIL:
        head[q] = nxt[row]
    else:
        nxt[prev] = nxt[row]
    if tail[q] == row:
        tail[q] = prev
    nxt[row] = NIL


@njit(cache=True)
def heap_push(heap: np.ndarray, size: np.ndarray, s: int, value: float) -> None:
    """Push onto the min-heap stored in row `s` of `heap` (its length in `size[s]`)."""
    i = size[s]
    size[s] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if heap[s, parent] <= value:
            break
        heap[s, i] = heap[s, parent]
        i = parent
    heap[s, i] = value


@njit(cache=True)
def heap_pop(heap: np.ndarray, size: np.ndarray, s: int) -> float:
    top = heap[s, 0]
    size[s] -= 1
    m = size[s]
    if m == 0:
        return float(top)
    last = heap[s, m]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= m:
            break
        if c + 1 < m and heap[s, c + 1] < heap[s, c]:
            c += 1
        if heap[s, c] >= last:
            break
        heap[s, i] = heap[s, c]
        i = c
    heap[s, i] = last
    return float(top)
