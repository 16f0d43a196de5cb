"""azure platform: catalog section, pure renderers and the component."""
