"""cropmap.experiments."""
