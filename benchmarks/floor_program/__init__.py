"""The floor program of the P1 benchmark."""
