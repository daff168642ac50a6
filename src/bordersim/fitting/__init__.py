"""Fits that run the engines: demand fitted by simulation to the official encounters.

This package sits above the compiler and the engines (it compiles a scenario and simulates it
again and again); `calibration/` below it only turns official files into inputs and reads and
writes the fit file (`calibration.fit_file`), without running anything.
"""

from bordersim.fitting.demand import FitOutcome, FitSettings, fit_demand

__all__ = ["FitOutcome", "FitSettings", "fit_demand"]
