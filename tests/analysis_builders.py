"""Procedural synthetic runners as DETECTIONS tables, with the answers known.

A runner is a 3-D stick figure (x forward, y up, z to the runner's left, metres) driven by a
gait cycle, projected orthographically into the image for a chosen camera view. Every
form parameter of docs/FORM_CUES.md is a knob, so each metric has a known answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from pipeline import appearance
from pipeline.camera import CAMERA_COLUMNS
from pipeline.poses import KEYPOINT_NAMES, NUM_KEYPOINTS
from pipeline.schemas import DETECTIONS

KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
#: Camera yaw per view: image x = cos(yaw) * forward + sin(yaw) * left.
VIEW_YAW = {"side_right": 0.0, "side_left": 180.0, "front": 90.0, "back": -90.0, "oblique": 45.0,
            "front_turned_35": 55.0, "oblique_30": 30.0, "oblique_50": 50.0}
LEG_SWAP = [
    (KP["left_hip"], KP["right_hip"]),
    (KP["left_knee"], KP["right_knee"]),
    (KP["left_ankle"], KP["right_ankle"]),
]
ANKLE_HEIGHT = 0.08  # m, ankle keypoint above the ground in stance
EAR_HALF_WIDTH = 0.075  # m, each ear from the head's midline
EAR_NOSE_M = 0.108  # m, ear to nose: 0.72 ears' widths, as measured on real runners (faults.EAR_NOSE_OVER_EAR_WIDTH)


@dataclass(frozen=True)
class RunnerSpec:
    """One synthetic person. Angles in degrees, distances as named."""

    fps: float = 30.0
    cadence_spm: float = 180.0
    duration_s: float = 6.0
    view: str = "side_right"
    gait: str = "run"  # run, walk, stand
    in_place: bool = False  # feet land under the body (running in place)
    foot_lift_m: float | None = None  # swing height of the ankle (default: 0.35 running, 0.12 walking)
    elbow_angle_deg: float | None = None  # default: 90 running, 150 walking, 170 standing
    trunk_lean_deg: float = 6.0  # forward from vertical
    overstride: float = 0.05  # landing ankle ahead of the hip, leg lengths
    # swing-leg retraction: the ankle is furthest ahead this long (strides) before it lands, and
    # that much further ahead (leg lengths); 0.07 stride is the median measured on the shared
    # side-view clips (benchmarks/reach_to_landing.py)
    retraction_strides: float = 0.07
    retraction: float = 0.04
    head_pitch_deg: float = 12.0  # ear->nose below horizontal
    neck_flexion_deg: float | None = None  # neck line forward of the trunk line (default: ear 2 cm ahead)
    arm_crossing: float = -0.1  # wrist past the midline at the forward peak, shoulder widths
    elbow_flare: float = 0.1  # elbow outside the shoulder, shoulder widths
    ear_shoulder_ratio: float = 0.4  # ear above shoulder, torso lengths
    shrug_late: float | None = None  # ear_shoulder_ratio from half-way on (form drift)
    right_phase: float = 0.5  # right contact after the left one, in strides (0.5: symmetric)
    hidden: tuple[str, ...] = ()  # keypoints never detected (occlusion)
    keypoint_conf: float = 0.9  # confidence reported for the visible keypoints
    travel: bool = False  # hips move forward in the world at running speed
    pan_px_per_s: float = 0.0  # camera pan (image content moves left when > 0)
    approach_m_per_s: float = 0.0  # walks/runs toward the camera from 12 m: grows in the image
    swaps: tuple[int, ...] = ()  # frames whose leg keypoints are swapped left/right
    gaps: tuple[tuple[int, int], ...] = ()  # [start, stop) frames without a detection
    noise_px: float = 0.0
    seed: int = 0
    track_id: int = 1
    shirt_hue: int | None = None  # hue bin (0-7) of the clothes' colour descriptor; None: no descriptor
    first_frame: int = 0
    body_scale: float = 1.0  # overall size
    leg_ratio: float = 1.0  # leg length relative to a standard body
    origin_px: tuple[float, float] = (640.0, 650.0)  # image x of the hips, y of the ground
    scale_px_per_m: float = 220.0
    camera_pitch_deg: float = 0.0  # looking down this far from level (a stand, a bridge, a drone)


@dataclass(frozen=True)
class Truth:
    """Known answers of a built runner."""

    contact_frames: dict[str, np.ndarray]  # sub-frame contact times in frames, per foot
    mid_stance_frames: dict[str, np.ndarray]  # sub-frame times of the hips' lowest point, per foot
    leg_length_px: float
    shank_angle_deg: float  # at contact (same every stride)
    vertical_oscillation: float  # leg lengths
    keypoints: np.ndarray = field(repr=False)  # (T, K, 2) before swaps, gaps and noise


def _gait_params(spec: RunnerSpec, leg: float) -> dict[str, float]:
    if spec.gait == "walk":
        params = dict(duty=0.62, lift=0.12, osc=0.03, back=0.25 * leg, arm=20.0)
    elif spec.gait == "run":
        params = dict(duty=0.35, lift=0.35, osc=0.08, back=0.3 * leg, arm=35.0)
    elif spec.gait == "stand":
        params = dict(duty=1.0, lift=0.0, osc=0.0, back=0.0, arm=0.0)
    else:
        raise ValueError(f"gait must be 'run', 'walk' or 'stand', got {spec.gait!r}")
    params["ahead"] = spec.overstride * leg
    params["retract_phase"], params["retract"] = spec.retraction_strides, spec.retraction * leg
    if spec.foot_lift_m is not None:
        params["lift"] = spec.foot_lift_m
    if spec.in_place:
        params["ahead"] = params["back"] = 0.03 * leg
    if spec.gait == "stand":
        params["ahead"] = 0.0
    return params


def _foot(phase: np.ndarray, g: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Ankle (forward of the hip, height above ground) in m for a foot's phase in [0, 1)."""
    stance = phase < g["duty"]
    s_st = phase / max(g["duty"], 1e-9)
    s_sw = (phase - g["duty"]) / max(1.0 - g["duty"], 1e-9)
    reach = g["ahead"] + g["back"]
    # the swing carries the ankle to its furthest point ``retract`` beyond the landing point,
    # ``retract_phase`` of a stride before landing, then back to it
    extra = g.get("retract", 0.0) if reach > 0 else 0.0
    peak = 1.0 - g.get("retract_phase", 0.0) / max(1.0 - g["duty"], 1e-9) if extra > 0 else 1.0
    swing = np.where(
        s_sw < peak,
        -g["back"] + (reach + extra) * (1 - np.cos(np.pi * np.minimum(s_sw / peak, 1.0))) / 2,
        g["ahead"] + extra * (1 + np.cos(np.pi * (s_sw - peak) / max(1.0 - peak, 1e-9))) / 2,
    )
    x = np.where(stance, g["ahead"] - reach * s_st, swing)
    y = np.where(stance, 0.0, g["lift"] * np.sin(np.pi * s_sw))
    return x, y + ANKLE_HEIGHT


def _knee(hip: np.ndarray, ankle: np.ndarray, leg: float) -> np.ndarray:
    """(T, 2) knee in the sagittal plane by two-link inverse kinematics, bending forward."""
    d_vec = ankle - hip
    d = np.clip(np.hypot(*d_vec.T), 1e-9, leg)
    u = d_vec / d[:, None]
    h = np.sqrt(np.maximum((leg / 2) ** 2 - (d / 2) ** 2, 0.0))
    normal = np.stack([-u[:, 1], u[:, 0]], axis=1)
    return hip + d_vec / 2 + h[:, None] * normal


def _rotate(vectors: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.stack(
        [
            vectors[:, 0] * np.cos(a) - vectors[:, 1] * np.sin(a),
            vectors[:, 0] * np.sin(a) + vectors[:, 1] * np.cos(a),
        ],
        axis=1,
    )


def _dims(spec: RunnerSpec) -> dict[str, float]:
    s = spec.body_scale
    return dict(
        leg=0.9 * s * spec.leg_ratio,
        torso=0.5 * s,
        shoulders=0.33 * s,  # 0.66 torso lengths: view.SQUARE_ON_RATIO, as measured on real runners
        hips=0.2 * s,
        upper_arm=0.3 * s,
        forearm=0.27 * s,
    )


def _legs(spec: RunnerSpec, t: np.ndarray, dims, g, hip_x: np.ndarray):
    """Hip centre (T, 2) and per side (hip, knee, ankle) sagittal points, metres."""
    leg = dims["leg"]
    stride_s = 120.0 / spec.cadence_spm
    phase_left = (t / stride_s + 0.2) % 1.0
    max_reach = max(g["ahead"], g["back"])
    hip_h = ANKLE_HEIGHT + np.sqrt((0.97 * leg) ** 2 - max_reach**2) - g["osc"] / 2
    osc = -(g["osc"] / 2) * np.cos(4 * np.pi * (phase_left - g["duty"] / 2))
    hip = np.stack([hip_x, hip_h + osc], axis=1)
    sides = []
    for phase in (phase_left, (phase_left - spec.right_phase) % 1.0):
        fx, fy = _foot(phase, g)
        ankle = np.stack([hip_x + fx, fy], axis=1)
        sides.append((hip, _knee(hip, ankle, leg), ankle))
    return hip, sides, phase_left


def _arms(spec: RunnerSpec, phase_left: np.ndarray, mid_shoulder: np.ndarray, dims, g):
    """Per side (elbow, wrist) sagittal points (T, 2) and lateral offsets z (T,), metres."""
    out = []
    sw = dims["shoulders"]
    elbow_angle = spec.elbow_angle_deg
    if elbow_angle is None:
        elbow_angle = {"run": 90.0, "walk": 150.0}.get(spec.gait, 170.0)
    for sign, side_phase in ((1.0, phase_left), (-1.0, phase_left)):
        swing = -sign * np.cos(2 * np.pi * side_phase)  # left arm forward when the right leg is
        alpha = np.radians(g["arm"] * swing - 5.0)
        upper = np.stack([np.sin(alpha), -np.cos(alpha)], axis=1)
        elbow = mid_shoulder + dims["upper_arm"] * upper
        wrist = elbow + dims["forearm"] * _rotate(upper, 180.0 - elbow_angle)
        forward = (1 + swing) / 2
        rest, peak = 0.06, -spec.arm_crossing * sw
        wrist_z = sign * (rest + (peak - rest) * forward)
        elbow_z = np.full(len(swing), sign * (sw / 2 + spec.elbow_flare * sw))
        out.append((elbow, wrist, elbow_z, wrist_z))
    return out


def world_pose(spec: RunnerSpec, t: np.ndarray) -> np.ndarray:
    """(T, K, 3) keypoints in metres: x forward, y up, z to the runner's left."""
    dims = _dims(spec)
    g = _gait_params(spec, dims["leg"])
    speed = 0.0
    if spec.travel and spec.gait != "stand":
        speed = (g["ahead"] + g["back"]) / (g["duty"] * 120.0 / spec.cadence_spm)
    hip, sides, phase_left = _legs(spec, t, dims, g, speed * t)
    lean = np.radians(spec.trunk_lean_deg)
    mid_shoulder = hip + dims["torso"] * np.array([np.sin(lean), np.cos(lean)])
    ratio = np.full(len(t), spec.ear_shoulder_ratio)
    if spec.shrug_late is not None:
        ratio[t >= t[-1] / 2] = spec.shrug_late
    if spec.neck_flexion_deg is None:
        ear = mid_shoulder + np.stack([np.full(len(t), 0.02), ratio * dims["torso"]], axis=1)
    else:  # the ear up the neck line, at the same height above the shoulders
        neck = lean + np.radians(spec.neck_flexion_deg)
        up_the_neck = np.stack([np.full(len(t), np.tan(neck)), np.ones(len(t))], axis=1)
        ear = mid_shoulder + (ratio * dims["torso"])[:, None] * up_the_neck
    pitch = np.radians(spec.head_pitch_deg)
    nose = ear + EAR_NOSE_M * np.array([np.cos(pitch), -np.sin(pitch)])
    eye = nose + np.array([-0.025, 0.035])
    out = np.zeros((len(t), NUM_KEYPOINTS, 3))

    def put(name: str, xy: np.ndarray, z: float | np.ndarray) -> None:
        out[:, KP[name], :2] = xy
        out[:, KP[name], 2] = z

    put("nose", nose, 0.0)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        put(f"{side}_eye", eye, sign * 0.032)
        put(f"{side}_ear", ear, sign * EAR_HALF_WIDTH)
        put(f"{side}_shoulder", mid_shoulder, sign * dims["shoulders"] / 2)
    arms = _arms(spec, phase_left, mid_shoulder, dims, g)
    for side, sign, (hip_pt, knee, ankle), (elbow, wrist, elbow_z, wrist_z) in zip(
        ("left", "right"), (1.0, -1.0), sides, arms, strict=True
    ):
        put(f"{side}_hip", hip_pt, sign * dims["hips"] / 2)
        put(f"{side}_knee", knee, sign * dims["hips"] / 2)
        put(f"{side}_ankle", ankle, sign * dims["hips"] / 2)
        put(f"{side}_elbow", elbow, elbow_z)
        put(f"{side}_wrist", wrist, wrist_z)
    return out


def project(spec: RunnerSpec, world: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(T, K, 2) image pixels of (T, K, 3) world points for the spec's view and pan."""
    if spec.view not in VIEW_YAW:
        raise ValueError(f"view must be one of {sorted(VIEW_YAW)}, got {spec.view!r}")
    yaw = np.radians(VIEW_YAW[spec.view])
    ox, oy = spec.origin_px
    camera_height, start_distance = 1.2, 12.0
    scale = spec.scale_px_per_m * start_distance / (start_distance - spec.approach_m_per_s * t)
    scale = scale[:, None]
    x = ox + scale * (np.cos(yaw) * world[..., 0] + np.sin(yaw) * world[..., 2])
    x = x - spec.pan_px_per_s * t[:, None]
    horizon = oy - spec.scale_px_per_m * camera_height
    # looking down, height shows foreshortened and the ground recedes up the picture
    pitch = np.radians(spec.camera_pitch_deg)
    away = np.cos(yaw) * world[..., 2] - np.sin(yaw) * world[..., 0]  # from the camera, along the ground
    y = horizon + scale * (camera_height - np.cos(pitch) * world[..., 1] - np.sin(pitch) * away)
    return np.stack([x, y], axis=-1)


def _visible(spec: RunnerSpec) -> np.ndarray:
    """(K,) bool: the face is hidden from behind."""
    visible = np.ones(NUM_KEYPOINTS, bool)
    if np.sin(np.radians(VIEW_YAW[spec.view])) < -0.3:
        visible[[KP["nose"], KP["left_eye"], KP["right_eye"]]] = False
    visible[[KP[name] for name in spec.hidden]] = False
    return visible


def _truth(spec: RunnerSpec, keypoints: np.ndarray) -> Truth:
    stride = 120.0 / spec.cadence_spm
    contacts = {}
    for foot, offset in (("left", -0.2), ("right", spec.right_phase - 0.2)):
        times = (np.arange(0, spec.duration_s / stride + 2) + offset) * stride
        times = times[(times > 0) & (times < spec.duration_s)]
        contacts[foot] = spec.first_frame + times * spec.fps
    dims = _dims(spec)
    world = world_pose(
        spec, contacts["left"][:1] / spec.fps if len(contacts["left"]) else np.zeros(1)
    )
    knee, ankle = world[0, KP["left_knee"]], world[0, KP["left_ankle"]]
    shank = np.degrees(np.arctan2(ankle[0] - knee[0], knee[1] - ankle[1]))
    g = _gait_params(spec, dims["leg"])
    # the hips are lowest half-way through each stance (see _legs)
    mid_stance = {foot: frames + g["duty"] / 2 * stride * spec.fps for foot, frames in contacts.items()}
    return Truth(
        contacts, mid_stance, dims["leg"] * spec.scale_px_per_m, float(shank), g["osc"] / dims["leg"], keypoints
    )


def _detections(spec: RunnerSpec, keypoints: np.ndarray) -> pa.Table:
    frames = spec.first_frame + np.arange(len(keypoints))
    keep = np.ones(len(frames), bool)
    for start, stop in spec.gaps:
        keep &= ~((frames >= start) & (frames < stop))
    visible = _visible(spec)
    points = keypoints[keep]
    lo, hi = np.nanmin(points, axis=1), np.nanmax(points, axis=1)
    columns = {
        "video_id": ["synthetic"] * int(keep.sum()),
        "frame": frames[keep],
        "time_s": frames[keep] / spec.fps,
        "track_id": np.full(int(keep.sum()), spec.track_id),
        "runner_id": np.full(int(keep.sum()), spec.track_id),
        "box_x1": lo[:, 0] - 10,
        "box_y1": lo[:, 1] - 30,
        "box_x2": hi[:, 0] + 10,
        "box_y2": hi[:, 1] + 10,
        "box_conf": np.full(int(keep.sum()), 0.9),
    }
    for k, name in enumerate(KEYPOINT_NAMES):
        for axis, suffix in ((0, "x"), (1, "y")):
            columns[f"{name}_{suffix}"] = pa.array(
                points[:, k, axis], mask=np.full(len(points), not visible[k])
            )
        columns[f"{name}_conf"] = np.full(len(points), spec.keypoint_conf if visible[k] else 0.05)
    columns["appearance"] = _appearance(spec, int(keep.sum()))
    # the camera's motion into each frame, as measured on the background: the pan's shift, no
    # zoom (a person approaching grows, the ground does not), no roll
    for name, value in zip(CAMERA_COLUMNS, (-spec.pan_px_per_s / spec.fps, 0.0, 1.0, 0.0), strict=True):
        columns[name] = np.full(int(keep.sum()), value, np.float32)
    return pa.table(columns).cast(DETECTIONS)


def _appearance(spec: RunnerSpec, rows: int) -> pa.Array:
    """A shirt of one hue and dark shorts (pipeline.appearance layout), or nulls."""
    size = appearance.DIMENSIONS
    if spec.shirt_hue is None:
        return pa.nulls(rows, pa.list_(pa.float32(), size))
    look = np.zeros(size, np.float32)
    look[spec.shirt_hue] = 0.8
    look[appearance.HUE_BINS + 3] = 0.2  # white print
    look[appearance.BINS + appearance.HUE_BINS] = 1.0  # black shorts
    values = np.tile(look, rows)
    return pa.FixedSizeListArray.from_arrays(pa.array(values, pa.float32()), size)


def build_runner(spec: RunnerSpec) -> tuple[pa.Table, Truth]:
    """A DETECTIONS table of one synthetic person and the answers its metrics should give."""
    t = np.arange(int(round(spec.duration_s * spec.fps))) / spec.fps
    keypoints = project(spec, world_pose(spec, t), t)
    truth = _truth(spec, keypoints.copy())
    observed = keypoints.copy()
    for frame in spec.swaps:
        row = frame - spec.first_frame
        for left, right in LEG_SWAP:
            observed[row, [left, right]] = observed[row, [right, left]]
    if spec.noise_px:
        observed += np.random.default_rng(spec.seed).normal(0.0, spec.noise_px, observed.shape)
    return _detections(spec, observed), truth


def build_table(*specs: RunnerSpec) -> pa.Table:
    """One DETECTIONS table holding several synthetic people (sorted by frame, then track)."""
    table = pa.concat_tables([build_runner(spec)[0] for spec in specs])
    return table.sort_by([("frame", "ascending"), ("track_id", "ascending")])


def analyse_spec(spec: RunnerSpec, fps: float | None = None, settings=None):
    """Build one runner and analyse it; returns (VideoAnalysis, Truth)."""
    from pipeline.analysis import AnalysisSettings, analyse_detections

    table, truth = build_runner(spec)
    analysis = analyse_detections(table, fps or spec.fps, 1280, 720, settings or AnalysisSettings())
    return analysis, truth


def deviation(analysis, name: str) -> dict:
    """The deviations row of fault ``name`` (single-runner analyses)."""
    rows = [r for r in analysis.deviations.to_pylist() if r["deviation"] == name]
    if len(rows) != 1:
        raise ValueError(f"expected one {name!r} row, got {len(rows)}")
    return rows[0]
