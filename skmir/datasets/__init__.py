"""Data for skmir: generated music with exact ground truth, written as audio folders.

:func:`make_music` composes and synthesises music (no download) with labels for every
task of the paper's table 1: genre, predominant instrument, key, mode, tempo and tags
per clip, and onsets, beats, chords and melody f0 over time.
:func:`write_audio_folder` (from :mod:`skmir.io`) writes clips as the
``root/<label>/<file>.wav`` tree that :func:`skmir.load_audio_folder` reads, to show
the folder workflow on them.
"""

from skmir.datasets._music import TAGS, TASKS, make_music
from skmir.datasets._styles import GENRES
from skmir.io import write_audio_folder  # lives beside its reader, load_audio_folder

__all__ = ["GENRES", "TAGS", "TASKS", "make_music", "write_audio_folder"]
