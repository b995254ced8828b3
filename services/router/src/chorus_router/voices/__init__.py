"""Custom voices: validated uploads, consents, per-user storage in SQL, and cloning references.

Nothing is re-exported here: `chorus_router.settings` imports `voices.settings`, and the
handlers import the router's services, so a package-level import would be circular.
"""
