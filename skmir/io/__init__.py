"""Audio input and datasets on disk.

Modules
-------
audio
    :func:`load_audio`, :class:`AudioLoader` (paths or waveforms in, fixed-length
    waveforms out) and :class:`Waveforms` (an array that carries its sample rate), and
    :func:`check_audio_files` (which files cannot be read as audio, and why).
lengths
    :func:`auto_duration` (the clip length when none is given), :func:`audio_durations`
    and :func:`describe_lengths` (what cropping and padding do to a folder).
folders
    :func:`load_audio_folder`, :func:`load_manifest` and :func:`write_audio_folder`.
annotations
    :func:`~skmir.io.annotations.write_lab`, :func:`~skmir.io.annotations.write_f0_csv`
    and :func:`~skmir.io.annotations.write_midi`: events as the files MIR tools read.

Nothing here imports torch.
"""

from skmir.io.audio import (
    AUDIO_EXTENSIONS,
    AudioFileError,
    AudioFileWarning,
    AudioLoader,
    Waveforms,
    check_audio_files,
    is_paths,
    load_audio,
)
from skmir.io.folders import load_audio_folder, load_manifest, write_audio_folder
from skmir.io.lengths import MAX_AUTO_DURATION, audio_durations, auto_duration, describe_lengths

__all__ = ["AUDIO_EXTENSIONS", "AudioFileError", "AudioFileWarning", "AudioLoader",
           "Waveforms", "check_audio_files", "is_paths", "load_audio", "load_audio_folder",
           "load_manifest", "write_audio_folder", "MAX_AUTO_DURATION", "audio_durations",
           "auto_duration", "describe_lengths"]
