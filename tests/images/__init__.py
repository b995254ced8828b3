"""Service images, checked statically: hadolint, Dockerfile policy, skaffold consistency."""
