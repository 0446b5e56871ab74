"""A nightly run's cost does not grow with the history: it opens only the new videos' files.

Measured through the flow (``flows.annotate.annotate_footage``, clips and report on) by counting
every container ``av.open`` reads: probing, the inference decode, the clips' decodes, the report's
thumbnails and anything else (session dates, ...). Writes (the H.264 clips) are not counted.
Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import collections
from pathlib import Path

import av
import pytest
from clips import person_photo, write_clip
from conftest import footage

from pipeline.config import load_settings

#: Container opens of one new video (pipeline/process.py, pipeline/render/clips.py,
#: pipeline/report/build.py): ``probe_video`` (header and first frame), ``track_video``'s decode,
#: one decode for every clip of the video (the annotated clip and all its highlight reels) and
#: the report's ``write_thumbnails`` (one decode for all the video's runners, when it has runners).
NEW_VIDEO_OPENS = 4

#: Real clips whose first 6 s hold a runner (so the report makes thumbnails and, for some, the
#: clips a highlight reel): the two of the earlier nights, then the new one.
REAL_CLIPS = ("single_front_in_place_indoor.mp4", "road_runner_front_view_tracking_cuts_overlay.mp4",
              "single_side_beach_cuts.mp4")


class OpenSpy:
    """Counts the containers opened for reading, per resolved file path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opens: collections.Counter[Path] = collections.Counter()
        real = av.open

        def counting_open(file, mode="r", *args, **kwargs):
            if mode is None or mode.startswith("r"):
                self.opens[Path(str(file)).resolve()] += 1
            return real(file, mode, *args, **kwargs)

        monkeypatch.setattr(av, "open", counting_open)

    def take(self) -> dict[Path, int]:
        opens, self.opens = dict(self.opens), collections.Counter()
        return opens


def _settings(weights: Path, end_s: float | None, image_size: int):
    return load_settings(overrides={"model": {"weights": str(weights), "image_size": image_size},
                                    "video": {"end_s": end_s}, "render": {"clips": True},
                                    "orchestration": {"retry_delay_s": 0.0}}, environ={})


def _synthetic(folder: Path, k: int) -> Path:
    return write_clip(folder / f"v{k}.mp4", frames=6 + k, image=person_photo())


def _real(folder: Path, k: int) -> Path:
    link = folder / REAL_CLIPS[k]
    link.symlink_to(footage(REAL_CLIPS[k]))  # the shared clip itself, never copied
    return link


# the real clips at 640 px for 6 s: the beach runner is measured there and gets a highlight reel
@pytest.mark.parametrize(("make", "end_s", "image_size"), [(_synthetic, None, 320), (_real, 6.0, 640)],
                         ids=["synthetic", "real"])
def test_a_nightly_run_opens_only_the_new_video(tmp_path: Path, weights: Path, prefect_harness,
                                                monkeypatch: pytest.MonkeyPatch, make, end_s, image_size):
    from flows.annotate import annotate_footage

    folder, out = tmp_path / "footage", tmp_path / "out"
    folder.mkdir()
    old = [make(folder, 0).resolve(), make(folder, 1).resolve()]
    settings = _settings(weights, end_s, image_size)
    spy = OpenSpy(monkeypatch)

    first = annotate_footage([str(folder)], str(out), settings)
    assert first["ok"] == 2, first
    first_opens = spy.take()
    assert all(first_opens.get(path, 0) >= 2 for path in old), first_opens  # the spy sees every decode

    new = make(folder, 2).resolve()
    second = annotate_footage([str(folder)], str(out), settings)
    opens = spy.take()
    assert (second["ok"], second["skipped"]) == (1, 2), second
    [row] = second["rows"]
    highlights = len(list((out / "clips" / row["video_id"]).glob("runner_*.mp4")))
    print(f"\n{make.__name__}: first run opens {[first_opens.get(p, 0) for p in old]}; second run opens "
          f"{ {p.name: n for p, n in opens.items()} } (new video: {row['runners']} runners, "
          f"{highlights} highlight reels; report.html {'written' if (out / 'report.html').is_file() else 'missing'})")
    assert set(opens) == {new}, f"the second night opened earlier videos: {opens}"
    assert opens[new] <= NEW_VIDEO_OPENS, opens  # however many highlight reels it has
    if make is _real:
        assert highlights >= 1, "the real clip should give a highlight reel, or this test proves less"
