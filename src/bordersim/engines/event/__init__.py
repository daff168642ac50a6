"""Event engine: individual-level discrete-event simulation compiled with Numba."""
