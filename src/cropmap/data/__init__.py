"""cropmap.data."""
