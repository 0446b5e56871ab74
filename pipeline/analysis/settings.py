"""Settings of the form analysis: every threshold once, with its unit and meaning.

Defaults follow ``docs/FORM_CUES.md``; they are a coach's judgement, meant to be tuned in
``configs/``. The model is wired into :class:`pipeline.config.Settings` as ``analysis``.
"""

from __future__ import annotations

from pydantic import model_validator

from pipeline.settings_base import Section, setting


class AnalysisSettings(Section):
    """Gait, view and form-fault analysis of tracked poses."""

    capture_fps: float | None = setting(
        None,
        "Real capture frame rate when it differs from the container's (slow-motion clips); "
        "time = frame / capture_fps. Null uses the container fps.",
        unit="frames/s",
        gt=0.0,
    )
    capture_fps_by_video: dict[str, float] = setting(
        {},
        "Per-video capture_fps: keys are a file name (e.g. 'finish_240fps.mov') or a video_id, "
        "values the real capture frame rate. Wins over capture_fps for that video.",
        unit="frames/s",
    )
    use_slow_motion_factor: bool = setting(
        True,
        "When no capture_fps is given and gravity shows a clip is slowed down k times "
        "(videos.slow_motion_factor), analyse it at k times the container's frame rate so cadence "
        "and times are real. A capture_fps or capture_fps_by_video always wins.",
        unit="on/off",
    )
    min_keypoint_confidence: float = setting(
        0.5,
        "Mean confidence of the keypoints a metric needs below which it is null with reason "
        "'low_confidence'.",
        unit="probability",
        ge=0.0,
        le=1.0,
    )
    max_gap_fill_s: float = setting(
        0.1,
        "Gaps in a keypoint shorter than this are filled by linear interpolation; longer gaps "
        "stay missing.",
        unit="s",
        ge=0.0,
        le=2.0,
    )
    lowpass_cutoff_hz: float = setting(
        10.0,
        "Cut-off of the zero-phase Butterworth low-pass on keypoint tracks (clipped to "
        "lowpass_max_nyquist_fraction of the Nyquist frequency).",
        unit="Hz",
        gt=0.0,
    )
    lowpass_order: int = setting(
        2,
        "Order of the Butterworth filter (doubled by forward-backward filtering).",
        unit="order",
        ge=1,
        le=8,
    )
    lowpass_max_nyquist_fraction: float = setting(
        0.8,
        "The cut-off is at most this fraction of the Nyquist frequency (fps / 2).",
        unit="fraction",
        gt=0.0,
        lt=1.0,
    )
    swap_cost_ratio: float = setting(
        0.5,
        "Left/right limbs are swapped back when the swapped assignment costs less than this "
        "fraction of the kept one (distance to the constant-velocity prediction).",
        unit="fraction",
        gt=0.0,
        le=1.0,
    )
    # --- stitching
    stitch_max_gap_s: float = setting(
        2.0,
        "Longest gap between two fragments that may be joined into one runner.",
        unit="s",
        ge=0.0,
    )
    stitch_max_distance_box_heights: float = setting(
        0.75,
        "Largest distance between the extrapolated end of one fragment and the start of the "
        "next, in box heights.",
        unit="box heights",
        gt=0.0,
    )
    stitch_max_proportion_difference: float = setting(
        0.2,
        "Largest relative difference of box height (carried across the gap at each end's rate "
        "of growth) and, separately, of body proportions (median over segment-length ratios) "
        "between fragments joined into one runner.",
        unit="fraction",
        gt=0.0,
    )
    stitch_max_appearance_distance: float = setting(
        0.35,
        "Largest colour distance (Hellinger, 0 alike to 1 nothing shared) between the clothes of "
        "two fragments joined into one runner: upper body and thighs, half a second at each end.",
        unit="distance",
        ge=0.0,
        le=1.0,
    )
    # --- view
    side_view_max_shoulder_ratio: float = setting(
        0.3,
        "Shoulder width / torso length below which a frame is a side view.",
        unit="ratio",
        gt=0.0,
    )
    sagittal_max_shoulder_ratio: float = setting(
        0.47,
        "Side-view faults (elbow angle, overstride, neck...) are also measured in oblique frames up "
        "to this shoulder ratio, with horizontal distances stretched back by 1/cos(yaw): 0.47 is a yaw of "
        "about 45 deg from the side (square-on reads 0.66), where keypoint noise grows by at most 1.4x. "
        "The trunk lean and the head's pitch, read between points on the body's midline, go on to "
        "frontal_view_min_shoulder_ratio.",
        unit="ratio",
        gt=0.0,
    )
    frontal_view_min_shoulder_ratio: float = setting(
        0.6,
        "Shoulder width / torso length above which a frame is a front or back view; between the "
        "two limits the view is oblique. Square-on runners read 0.62-0.70 (COCO shoulder points "
        "sit inside the deltoids); at 0.55 a runner turned about 35 deg away counted as frontal, "
        "and the fore-aft arm swing then read as elbow flare.",
        unit="ratio",
        gt=0.0,
    )
    max_camera_pitch_deg: float = setting(
        40.0,
        "A camera looking down on a person further than this (read from the shoulders against the torso, "
        "which it foreshortens: square-on the shoulders are 0.66 of the torso's length apart from a level "
        "camera, 0.60-0.67 measured on 60 people of 11 clips) sees a foot's travel along the ground as a lift and "
        "a joint more bent than it is: whether the person runs cannot be told, and the activity is "
        "'unknown' with no fault read (reason 'view'). A course-side or finish-line stand is 10-30 deg "
        "down; a balcony, a bridge or a drone over a crowd 45-90 deg.",
        unit="deg",
        gt=0.0,
        le=90.0,
    )
    # --- gait and running
    min_foot_lift_leg_lengths: float = setting(
        0.05,
        "A foot must rise at least this high above the ground line for steps to be counted.",
        unit="leg lengths",
        gt=0.0,
    )
    contact_height_fraction: float = setting(
        0.1,
        "Initial contact is when the ankle descends below this fraction of its swing height "
        "above the ground line.",
        unit="fraction",
        gt=0.0,
        lt=0.5,
    )
    flight_height_fraction: float = setting(
        0.1,
        "Both ankles above this fraction of their swing height counts as flight (no foot on "
        "the ground).",
        unit="fraction",
        gt=0.0,
        lt=1.0,
    )
    side_contact_min_reach_leg_lengths: float = setting(
        0.15,
        "Side views: a foot's forward reach ahead of the hips must rise this much above the "
        "surrounding troughs to count as a step (initial contact shortly after its peak).",
        unit="leg lengths",
        gt=0.0,
    )
    bounce_min_leg_lengths: float = setting(
        0.02,
        "Front and back views: a trough of the mid-hip's bounce must be this much lower than the "
        "crests around it to count as a step (one trough per step).",
        unit="leg lengths",
        gt=0.0,
    )
    bounce_min_px: float = setting(
        3.0,
        "Front and back views: the least depth of a trough of the hips' bounce in pixels, whatever "
        "the runner's size (keypoints jitter by a pixel or two).",
        unit="px",
        ge=0.0,
    )
    running_min_cadence_spm: float = setting(
        140.0,
        "Lowest real-time cadence of running.",
        unit="steps/min",
        gt=0.0,
    )
    running_max_cadence_spm: float = setting(
        300.0,
        "Highest real-time cadence of running (sprinters reach 270-300 steps/min).",
        unit="steps/min",
        gt=0.0,
    )
    slow_motion_max_cadence_spm: float = setting(
        120.0,
        "A running-like gait below this cadence suggests a slow-motion clip.",
        unit="steps/min",
        gt=0.0,
    )
    slow_motion_min_factor: float = setting(
        1.4,
        "A running gait whose flight parabolas fall at least this many times slower than gravity "
        "(9.81 m/s^2, the runner's leg taken as 0.86 m) is slow motion. Real-time clips read 0.9-1.1 "
        "(see pipeline/analysis/gravity.py); common slow-motion modes are 2x and more.",
        unit="x",
        gt=1.0,
    )
    max_keypoint_jitter_leg_lengths: float = setting(
        0.05,
        "Keypoint noise (median distance of raw hip, knee and ankle keypoints from the low-passed "
        "track) above which steps cannot be told from noise: the person's activity is 'unknown'.",
        unit="leg lengths",
        gt=0.0,
    )
    still_speed_fraction: float = setting(
        0.25,
        "The gait is read only over the longest bout in which the legs move: the faster ankle's speed "
        "relative to the hips (1-s rolling median) at least this fraction of the person's own typical "
        "(90th percentile) stepping speed. A sprinter's seconds in the blocks or a spectator standing "
        "before jogging off are left out; relative, so slow motion is judged alike.",
        unit="fraction",
        gt=0.0,
        lt=1.0,
    )
    min_flight_fraction: float = setting(
        0.1,
        "Fraction of the time with both feet off the ground above which the gait has flight. Each "
        "foot's stance lasts 0.3-0.45 of a running stride (duty factor), so both are off the ground "
        "0.1-0.4 of the time (1 - 2 x duty); 0.1 is the slowest jog's, and less cannot be told from an "
        "ankle keypoint lifting with the heel at push-off (a brisk walker in a recompressed crowd read 0.06).",
        unit="fraction",
        ge=0.0,
        le=1.0,
    )
    running_max_knee_angle_deg: float = setting(
        110.0,
        "Running flexes the swing knee below this interior angle; walking stays above (about "
        "115-125 deg at its deepest in 2-D side views, running 60-100 deg).",
        unit="deg",
        gt=0.0,
        le=180.0,
    )
    walking_min_knee_angle_deg: float = setting(
        115.0,
        "Side-on, a swing knee that never bends past this interior angle says walking (walking's deepest "
        "is about 115-125 deg in 2-D side views) and vetoes running; between running_max_knee_angle_deg "
        "and this the knee says neither (a treadmill runner's half-clip read 110.4 deg beside four running cues).",
        unit="deg",
        gt=0.0,
        le=180.0,
    )
    running_max_elbow_angle_deg: float = setting(
        120.0,
        "Runners carry the elbows bent below this interior angle (side view); walkers' arms hang "
        "straighter.",
        unit="deg",
        gt=0.0,
        le=180.0,
    )
    running_min_oscillation_leg_lengths: float = setting(
        0.06,
        "Vertical oscillation of the mid-hip per stride above which the gait looks like running.",
        unit="leg lengths",
        ge=0.0,
    )
    min_strides: int = setting(
        1,
        "Fewest strides (or contacts) a metric needs; below it the value is null with reason "
        "'too_few_strides'. Few strides need no gate of their own: their verdict's interval is "
        "wide (a t-interval on the fault's measured stride-to-stride spread), and too wide an "
        "interval is 'low_confidence'.",
        unit="strides",
        ge=1,
    )
    min_flagged_fraction: float = setting(
        0.5,
        "A fault is flagged when more than this fraction of the measured strides show it.",
        unit="fraction",
        ge=0.0,
        lt=1.0,
    )
    # --- form faults (docs/FORM_CUES.md)
    looking_down_deg: float = setting(
        25.0,
        "Head pitch (ear->nose below horizontal) above which the runner looks down.",
        unit="deg",
    )
    front_camera_height_allowance_deg: float = setting(
        10.0,
        "Seen from the front, the head's pitch is read against the camera's line of sight, so a camera "
        "above the runner's eyes adds its angle of view and one below takes it away; a looking-down "
        "verdict from the front holds only beyond this allowance either way. 10 deg covers a camera "
        "within 0.5 m of eye height at 3 m or more (a phone in the hand, a tripod, a course-side "
        "camera: atan(0.5/3) = 9.5 deg); raise it for cameras on stands or bridges.",
        unit="deg",
        ge=0.0,
    )
    neck_flexion_max_deg: float = setting(
        20.0,
        "Neck flexion (the mid-shoulder->ear line's angle forward of the trunk line, side view) "
        "above which the head hangs forward. Runners on the shared clips carry about 8 deg.",
        unit="deg",
    )
    elbow_angle_min_deg: float = setting(
        70.0, "Lowest good interior elbow angle.", unit="deg", ge=0.0, le=180.0
    )
    elbow_angle_max_deg: float = setting(
        110.0, "Highest good interior elbow angle.", unit="deg", ge=0.0, le=180.0
    )
    arm_crossing_shoulder_widths: float = setting(
        0.1,
        "A wrist past the body midline by more than this crosses it.",
        unit="shoulder widths",
    )
    arm_crossing_stride_fraction: float = setting(
        0.3,
        "Arm crossing is flagged when more than this fraction of the measured steps cross "
        "(each step swings one arm forward).",
        unit="fraction",
        ge=0.0,
        lt=1.0,
    )
    elbow_flare_shoulder_widths: float = setting(
        0.35,
        "Elbow outside the shoulder by more than this at the peak of the swing flares.",
        unit="shoulder widths",
    )
    trunk_lean_max_deg: float = setting(
        15.0, "Forward trunk lean above which the runner bends at the waist.", unit="deg"
    )
    trunk_lean_min_deg: float = setting(
        0.0, "Trunk lean below which the runner leans back.", unit="deg"
    )
    shrug_min_ratio: float = setting(
        0.25,
        "Ear-shoulder vertical distance / torso length below which shoulders are shrugged.",
        unit="torso lengths",
        ge=0.0,
    )
    shrug_max_drop_fraction: float = setting(
        0.2,
        "Shrugging is also flagged when the ratio in the last third falls more than this "
        "fraction below the first third.",
        unit="fraction",
        ge=0.0,
        le=1.0,
    )
    overstride_leg_lengths: float = setting(
        0.15,
        "Landing ankle ahead of the mid-hip by more than this overstrides.",
        unit="leg lengths",
    )
    shank_angle_max_deg: float = setting(
        10.0,
        "Shank angle from vertical at initial contact above which the runner overstrides.",
        unit="deg",
    )
    pose_lean_min_deg: float = setting(
        0.0,
        "Whole-body lean (stance ankle -> mid-shoulder) at mid-stance below which the runner "
        "does not fall forward.",
        unit="deg",
    )
    pose_lean_max_deg: float = setting(
        12.0,
        "Whole-body lean at mid-stance above which the runner falls too far forward.",
        unit="deg",
    )

    def for_video(self, file_name: str, video_id: str) -> AnalysisSettings:
        """These settings with ``capture_fps`` resolved for one video."""
        fps = self.capture_fps_by_video.get(file_name, self.capture_fps_by_video.get(video_id))
        return self if fps is None else self.model_copy(update={"capture_fps": fps})

    @model_validator(mode="after")
    def _check_ranges(self) -> AnalysisSettings:
        for key, fps in self.capture_fps_by_video.items():
            if not fps > 0:
                raise ValueError(f"analysis.capture_fps_by_video[{key!r}] ({fps}) must be > 0 frames/s")
        pairs = [
            ("side_view_max_shoulder_ratio", "frontal_view_min_shoulder_ratio"),
            ("running_min_cadence_spm", "running_max_cadence_spm"),
            ("running_max_knee_angle_deg", "walking_min_knee_angle_deg"),
            ("elbow_angle_min_deg", "elbow_angle_max_deg"),
            ("trunk_lean_min_deg", "trunk_lean_max_deg"),
            ("pose_lean_min_deg", "pose_lean_max_deg"),
        ]
        for low, high in pairs:
            if getattr(self, low) >= getattr(self, high):
                raise ValueError(
                    f"analysis.{low} ({getattr(self, low)}) must be below analysis.{high} "
                    f"({getattr(self, high)})"
                )
        return self
