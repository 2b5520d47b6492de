"""cropmap.evaluate."""
