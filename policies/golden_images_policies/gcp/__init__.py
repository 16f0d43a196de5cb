"""GCP rules: images, machine images, snapshots and their IAM (``compute``)."""
