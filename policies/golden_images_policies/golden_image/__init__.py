"""Rules on the project's own component resources: GoldenImage and the platform components (``components``), and
layered images judged through their golden parent chain (``lineage``)."""
