"""The consortium's four member institutions, each a portal plugin (entry points in setup.cfg)."""
