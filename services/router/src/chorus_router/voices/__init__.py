"""Custom voices: validated uploads, consents, per-user storage in SQL, and cloning references.

Nothing is re-exported here: `chorus_router.settings` imports `voices.settings` alone, so a
package-level import would load the whole library with the settings.
"""
