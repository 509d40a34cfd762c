"""Composing (the second stage, and the fourth, the fit report): the grid, the galleys, cuts, photos, the
HTML."""
