"""Every Python snippet of README.md, and every ``code-block:: python`` of the
documentation pages (their ``>>>`` examples run in tests/test_docs.py), runs as
written, in order, as a reader would run them: one session per page, after ``import
skmir``, on a small folder of audio standing in for the reader's own (``gtzan/``,
``manifest.csv``) and with the names the pages leave to the reader (``paths``, ``y``,
``artists``, ``waveforms``) bound to it.

One snippet cannot run here as written: it connects to a Dask scheduler at an
address of the reader's cluster; it is checked to compile, and the Dask path itself
is tested in tests/test_dask.py.
"""

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from conftest import write_dataset  # noqa: E402

import skmir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
# rst pages: the indented body of each ".. code-block:: python"
PAGES = {p.relative_to(ROOT).as_posix(): [
    textwrap.dedent(block) for block in re.findall(
        r"\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", p.read_text())]
    for p in sorted((ROOT / "docs").rglob("*.rst"))
    if "code-block:: python" in p.read_text() and "_build" not in p.parts}
# Snippets that need what only the reader has (a running Dask scheduler).
NEEDS_A_CLUSTER = "tcp://scheduler:8786"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The reader's session: a folder of audio, its manifest, and the names the README
    leaves to the reader, bound to that folder."""
    root = tmp_path_factory.mktemp("reader")
    # five labelled "artists" per class so that GroupKFold(5) and cv=5 have folds
    write_dataset(root / "gtzan", n_per_class=5, sr=16000)
    paths, y = skmir.load_audio_folder(root / "gtzan")
    artists = np.arange(len(paths)) % 5
    with open(root / "manifest.csv", "w") as f:
        f.write("path,label\n")
        f.writelines(f"{p},{label}\n" for p, label in zip(paths, y))
    waveforms = skmir.AudioLoader(sr=16000, duration=2.0).fit_transform(paths[:2])
    return root, {"paths": paths, "y": y, "artists": artists, "waveforms": waveforms}


def test_the_readme_has_snippets():
    assert len(SNIPPETS) >= 6


def _run(blocks, source, session, monkeypatch):
    root, names = session
    monkeypatch.chdir(root)
    namespace = {"skmir": skmir, **names}
    for k, code in enumerate(blocks):
        compiled = compile(code, f"{source} python snippet {k + 1}", "exec")
        if NEEDS_A_CLUSTER in code:
            continue
        exec(compiled, namespace)  # noqa: S102


def test_every_readme_snippet_runs_as_written(session, monkeypatch):
    _run(SNIPPETS, "README.md", session, monkeypatch)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_code_block_of_the_docs_runs_as_written(page, session, monkeypatch):
    assert PAGES[page], f"{page}: no code block found"
    _run(PAGES[page], page, session, monkeypatch)
