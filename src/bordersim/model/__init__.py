"""The compiled model: the scenario as plain numeric arrays, the only thing engines read."""
