"""Operational validation: public figures on the state of the border beside simulated values."""
