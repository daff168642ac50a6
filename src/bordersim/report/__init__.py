"""Self-contained HTML reports of runs and comparisons (inline plotly.js, readable offline)."""
