"""Pieces shared by environment families."""
