"""Reusable widgets: the level meter, the IVR tree and the call status line."""
