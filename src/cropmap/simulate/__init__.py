"""cropmap.simulate."""
