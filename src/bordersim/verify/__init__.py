"""Verification of the event core against queueing theory: formulas, cases and their runner."""
