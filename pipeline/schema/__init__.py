"""One module per params section: ``<section>.py`` defines the section's class as ``SCHEMA``.

Nothing here imports them: pipeline.config lists this folder to learn which
sections exist, and each stage imports its own. Modules without ``SCHEMA``
(``relighting.py``) hold what several sections share.
"""
