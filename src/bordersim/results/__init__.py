"""Results: the same schema from both engines (DESIGN section 3)."""
