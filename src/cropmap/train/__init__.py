"""cropmap.train."""
