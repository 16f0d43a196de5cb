"""The platform-neutral core: image model pieces, rules, fingerprints, shell steps, emitters and type tokens.

Nothing here imports a platform, the catalog or Pulumi resources (import-linter enforces it; see
docs/architecture.md). The policy pack imports only this layer.
"""
