"""Camera poses of face photographs, in EG3D's convention (the ``poses`` stage)."""
