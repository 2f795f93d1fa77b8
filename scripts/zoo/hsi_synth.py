"""Synthetic hyperspectral road scenes seen through a 5x5 snapshot-mosaic sensor.

A stand-in for HSI-Drive (docs/references.md section 2), which we cannot redistribute: 25 bands over
600-975 nm, 11 classes, frames from a snapshot mosaic sensor. Everything is seeded and plain NumPy,
so the same seed gives the same frames on every machine.

    scene(rng, h, w)          -> labels [h, w] (int64 class ids, 0..10)
    reflectance(rng, labels)  -> cube [25, h, w] float32, reflectance in [0, 1]
    mosaic(rng, cube)         -> raw [5h, 5w] float32 digital numbers (10-bit, integer valued)
    cube_from_raw(raw)        -> the float reflectance cube the simulator's preprocessing makes:
                                 demosaic (pixel re-arrangement) then (raw - DARK) / (WHITE - DARK)

The mosaic: raw pixel (5i + r, 5j + c) holds band 5r + c of cube pixel (i, j) (cube building is a
pure re-arrangement, as in the HSI-Drive pipeline, so one cube pixel is one 5x5 macro-pixel).
Sensor model: DN = DARK + (WHITE - DARK) * reflectance * illumination + shot and read noise,
rounded and clipped to 10 bits. docs/fpga-soc.md describes the generator in words.
"""
import numpy as np

BANDS = 25
MOSAIC = 5
WAVELENGTHS_NM = np.linspace(600.0, 975.0, BANDS)
DARK_DN = 64.0     # black level of the 10-bit sensor (DN); the simulator's sensor.dark_dn
WHITE_DN = 1000.0  # DN of a white reference under the scene light; sensor.white_dn
MAX_DN = 1023.0

CLASSES = ["unlabelled", "road", "road marks", "vegetation", "painted metal", "sky",
           "concrete/stone/brick", "pedestrian/cyclist", "water", "unpainted metal",
           "glass/transparent plastic"]
N_CLASSES = len(CLASSES)


def _sig(x, x0, k):
    return 1.0 / (1.0 + np.exp(-(x - x0) / k))


def class_spectra():
    """Mean reflectance [11, 25] of each class over 600-975 nm (smooth, hand-shaped curves:
    a red edge for vegetation, a falling sky, water absorbing in the NIR, ...)."""
    lam = WAVELENGTHS_NM
    t = (lam - 600.0) / 375.0  # 0..1 across the range
    s = np.zeros((N_CLASSES, BANDS))
    s[0] = 0.25 + 0.05 * np.sin(6 * t)                      # unlabelled clutter
    s[1] = 0.09 + 0.03 * t                                  # asphalt: dark, flat
    s[2] = 0.55 + 0.05 * t                                  # white paint
    s[3] = 0.06 + 0.50 * _sig(lam, 715.0, 12.0)             # vegetation: red edge
    s[4] = 0.30 + 0.25 * np.exp(-((lam - 640.0) / 40.0) ** 2) + 0.10 * t  # painted metal (red car)
    s[5] = 0.70 - 0.45 * t                                  # sky: falls towards the NIR
    s[6] = 0.28 + 0.12 * t                                  # concrete, brick
    s[7] = 0.20 + 0.15 * _sig(lam, 760.0, 30.0)             # clothes and skin
    s[8] = 0.12 * np.exp(-3.5 * t)                          # water: absorbs the NIR
    s[9] = 0.45 + 0.02 * np.cos(5 * t)                      # bare metal: grey, flat
    s[10] = 0.15 + 0.10 * np.exp(-((lam - 900.0) / 60.0) ** 2)  # glass
    return s.astype(np.float64)


def scene(rng, h, w):
    """A road-scene-like label map: sky above a horizon, vegetation and buildings along it, a
    road trapezoid with lane marks, cars (painted metal with glass), poles, pedestrians,
    puddles."""
    lab = np.zeros((h, w), np.int64)
    yy, xx = np.mgrid[0:h, 0:w]
    horizon = int(h * rng.uniform(0.30, 0.45))
    lab[:horizon] = 5
    # band of vegetation / buildings above the horizon line
    x = 0
    while x < w:
        seg = int(rng.integers(max(2, w // 8), max(3, w // 3)))
        top = horizon - int(rng.integers(1, max(2, h // 4)))
        lab[max(0, top):horizon, x:x + seg] = rng.choice([3, 6, 3, 0])
        x += seg
    # ground: vegetation, then the road trapezoid
    lab[horizon:] = 3
    vx = w * rng.uniform(0.35, 0.65)
    half_bottom = w * rng.uniform(0.45, 0.8)
    frac = (yy - horizon) / max(1, h - horizon)
    left = vx - frac * half_bottom
    right = vx + frac * half_bottom
    road = (yy >= horizon) & (xx >= left) & (xx <= right)
    lab[road] = 1
    # side walks
    side = (yy >= horizon) & (((xx >= left - 2 - 2 * frac) & (xx < left)) |
                              ((xx > right) & (xx <= right + 2 + 2 * frac)))
    lab[side] = 6
    # dashed centre line and edge lines
    centre = road & (np.abs(xx - vx) <= 0.5 + 0.6 * frac) & (((yy // 3) % 2) == 0)
    lab[centre] = 2
    # cars: painted metal with a glass window
    for _ in range(int(rng.integers(0, 3))):
        cy = int(rng.integers(horizon + 1, h - 2))
        f = (cy - horizon) / max(1, h - horizon)
        cw = max(3, int(w * 0.12 * (0.4 + f)))
        chh = max(2, int(cw * 0.6))
        cx = int(rng.integers(0, max(1, w - cw)))
        lab[max(0, cy - chh):cy, cx:cx + cw] = 4
        lab[max(0, cy - chh):max(0, cy - chh) + max(1, chh // 3), cx + 1:cx + cw - 1] = 10
    # poles (unpainted metal)
    for _ in range(int(rng.integers(0, 3))):
        px = int(rng.integers(0, w))
        lab[max(0, horizon - h // 4):min(h, horizon + h // 6), px:px + 1] = 9
    # pedestrians
    for _ in range(int(rng.integers(0, 3))):
        py = int(rng.integers(horizon + 2, h))
        f = (py - horizon) / max(1, h - horizon)
        ph = max(2, int(h * 0.18 * (0.4 + f)))
        px = int(rng.integers(0, w - 1))
        lab[max(0, py - ph):py, px:px + max(1, ph // 3)] = 7
    # puddles (water) on the road
    for _ in range(int(rng.integers(0, 2))):
        py = int(rng.integers(horizon + 2, h))
        px = int(rng.integers(0, w))
        r = rng.uniform(1.0, 3.0)
        puddle = road & ((yy - py) ** 2 + ((xx - px) / 2.0) ** 2 <= r * r)
        lab[puddle] = 8
    return lab


def reflectance(rng, lab):
    """Per-pixel spectra: class mean x per-object brightness x smooth shading, plus a small
    per-pixel spectral variation."""
    spec = class_spectra()
    h, w = lab.shape
    cube = spec[lab].transpose(2, 0, 1)  # [25, h, w]
    shade = 1.0 + 0.15 * np.sin(np.linspace(0, rng.uniform(1, 4), w))[None, :] \
        * np.cos(np.linspace(0, rng.uniform(1, 3), h))[:, None]
    gain = rng.uniform(0.8, 1.2, size=N_CLASSES)[lab]
    tilt = rng.normal(0.0, 0.03, size=(h, w))
    t = np.linspace(-0.5, 0.5, BANDS)[:, None, None]
    cube = cube * (shade * gain)[None] * (1.0 + tilt[None] * t)
    cube += rng.normal(0.0, 0.01, size=cube.shape)
    return np.clip(cube, 0.0, 1.0).astype(np.float32)


def mosaic(rng, cube):
    """Raw 10-bit frame [5h, 5w] of the snapshot mosaic sensor for a reflectance cube."""
    b, h, w = cube.shape
    illum = rng.uniform(0.85, 1.0)
    signal = (WHITE_DN - DARK_DN) * cube * illum
    shot = rng.normal(0.0, 1.0, size=signal.shape) * np.sqrt(np.maximum(signal, 0.0) * 0.5)
    read = rng.normal(0.0, 2.0, size=signal.shape)
    dn = np.clip(np.round(DARK_DN + signal + shot + read), 0.0, MAX_DN)
    raw = np.zeros((h * MOSAIC, w * MOSAIC), np.float32)
    for band in range(b):
        r, c = divmod(band, MOSAIC)
        raw[r::MOSAIC, c::MOSAIC] = dn[band]
    return raw


def demosaic(raw):
    """Cube building: [5h, 5w] -> [25, h, w] (pure re-arrangement)."""
    h, w = raw.shape[0] // MOSAIC, raw.shape[1] // MOSAIC
    cube = np.zeros((BANDS, h, w), np.float32)
    for band in range(BANDS):
        r, c = divmod(band, MOSAIC)
        cube[band] = raw[r::MOSAIC, c::MOSAIC]
    return cube


def cube_from_raw(raw):
    """What the network sees: reflectance normalisation of the demosaicked frame."""
    return ((demosaic(raw) - DARK_DN) / (WHITE_DN - DARK_DN)).astype(np.float32)


def make_set(seed, n, h, w):
    """n frames: raw [n, 5h, 5w], cubes [n, 25, h, w] (from the raw frames), labels [n, h, w]."""
    rng = np.random.default_rng(seed)
    raws, cubes, labs = [], [], []
    for _ in range(n):
        lab = scene(rng, h, w)
        raw = mosaic(rng, reflectance(rng, lab))
        raws.append(raw)
        cubes.append(cube_from_raw(raw))
        labs.append(lab)
    return np.stack(raws), np.stack(cubes), np.stack(labs)


def miou(pred, lab, n_classes=N_CLASSES):
    """Mean IoU over classes 1..10 present in the labels or the predictions; pixels labelled 0
    (unlabelled) are ignored, the HSI-Drive convention. prunesim compare computes the same."""
    valid = lab != 0
    ious = []
    for c in range(1, n_classes):
        p, t = (pred == c) & valid, (lab == c) & valid
        union = np.logical_or(p, t).sum()
        if union == 0:
            continue
        ious.append(np.logical_and(p, t).sum() / union)
    return float(np.mean(ious)) if ious else 0.0
