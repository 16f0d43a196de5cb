"""Rules on the project's own component resources: GoldenImage and the platform components (``components``)."""
