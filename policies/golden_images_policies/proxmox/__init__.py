"""Proxmox VE rules: VM and container templates (``templates``)."""
