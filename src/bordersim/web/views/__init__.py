"""The workbench's routers, one per area; each takes the `Site` it serves."""
