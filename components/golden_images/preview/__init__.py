"""Offline preview: run the Pulumi program under mocks, then evaluate the policy pack through the engine's
analyzer protocol (see :mod:`golden_images.engine.harness`)."""
