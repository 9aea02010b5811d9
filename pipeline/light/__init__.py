"""Sphere and equirectangular math, light sets, relighting."""
