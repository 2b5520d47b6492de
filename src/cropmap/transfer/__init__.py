"""cropmap.transfer."""
