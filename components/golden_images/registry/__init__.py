"""The image registry (``stacks/registry.yaml``): recorded versions with their artifacts, channels that
consumers follow, promotion, and revocation with ancestry. :mod:`.model` is the schema, :mod:`.store` reads
and writes the file, :mod:`.ops` holds the pure operations, :mod:`.commands` the CLI."""
