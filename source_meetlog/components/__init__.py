"""Python components for what manifest.yaml cannot say; each file holds one kind."""
