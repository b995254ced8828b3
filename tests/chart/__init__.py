"""The Helm chart, rendered offline by the Helm library and checked against Kubernetes' schemas."""
