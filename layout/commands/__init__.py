"""The commands beside ``compose``: watch, serve (and its benchmark), new issue, diff, archive."""
