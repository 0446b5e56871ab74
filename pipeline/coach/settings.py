"""Settings of the coach's loop: where names come from besides the user."""

from __future__ import annotations

from pipeline.settings_base import Section, setting


class AthleteSettings(Section):
    """How runners get names other than by `formwatch name` (which always wins). None of these change
    what is computed for a video, so they never make a video count as changed."""

    roster: str | None = setting(
        None, "YAML roster file (e.g. configs/roster.yaml; configs/roster.example.yaml shows the format): a list "
        "of {athlete, video (file name, path or video_id), runner (id; left out: the video's main runner)}. "
        "Trusted below `formwatch name`, above folders.",
    )
    names_from_folders: bool = setting(
        False, "Name the main runner of each video after the first folder below the source folder "
        "(footage/lea/2026-12-01.mp4 -> 'Lea'; '_' and '-' read as spaces, all-lowercase names capitalised). "
        "The main runner is the only runner, or one seen at least main_runner_ratio times as long as the next; "
        "otherwise no name is given.",
    )
    main_runner_ratio: float = setting(
        2.0, "How many times longer than any other runner the main runner of a video must be seen (frames).",
        unit="x", ge=1.0, le=100.0,
    )
    propose_matches: bool = setting(
        True, "Propose a name for unnamed runners that look like a named runner of the same night (clothing "
        "colours and body proportions). A proposal is shown, never confirmed: `formwatch name` confirms it.",
    )
    proposal_max_distance: float = setting(
        0.35, "Largest appearance-and-proportion distance at which a runner is proposed as a named one "
        "(0 = identical clothing colours and proportions; see pipeline/coach/proposals.py).",
        unit="distance", ge=0.0, le=10.0,
    )
    same_night_h: float = setting(
        12.0, "Videos filmed within this many hours of each other count as the same night for proposals.",
        unit="h", gt=0.0, le=168.0,
    )
