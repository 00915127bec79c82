"""API keys for machine clients (agencies, portals): recognisable, checksummed, stored hashed, scoped."""
