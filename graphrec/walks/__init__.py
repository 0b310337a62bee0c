"""walks layer."""
