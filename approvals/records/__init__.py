"""The audit log: appending, sealing, keys, anchors, search, and restores from back-ups."""
