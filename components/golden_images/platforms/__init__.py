"""One package per platform (aws, azure, gcp, proxmox): its catalog section, rendering, checks and component."""
