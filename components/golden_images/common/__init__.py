"""Platform-neutral pieces: the catalog model, tag model, versions, fingerprints, naming and shared rules."""
