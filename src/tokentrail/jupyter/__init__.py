"""Jupyter: the ``%load_ext tokentrail`` extension, its magics, and the live usage panel (imported lazily)."""
