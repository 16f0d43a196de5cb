"""The catalog: the typed model of a stack file's ``golden-images:catalog`` over the core image and the
platform sections, the loader and its errors, and the stack files themselves."""
