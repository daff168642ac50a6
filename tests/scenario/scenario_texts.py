"""Scenario texts shared by the scenario tests."""

MINIMAL = """
name = "minimal"
sectors = ["TCA", "RGV"]

[period]
start_date = 2023-04-20
end_date = 2023-05-31
warmup_days = 7
"""
