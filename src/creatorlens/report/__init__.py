"""Renderings of a creator's dashboard for the terminal."""
