"""Radiance fields the shared renderer (pipeline/render) marches: each answers the Field interface."""
