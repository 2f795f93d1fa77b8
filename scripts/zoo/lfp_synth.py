"""Synthetic multi-channel LFP generator for the DS-CAE1-like neural-signal autoencoder.

The model (docs/zoo.md has the full description and the reasons behind each number):

* Electrode array: a Utah-style 10 x 10 grid at 0.4 mm pitch with the four corners unused,
  96 channels, numbered row-major skipping the corners.  Sampling rate 2 kHz; one window is
  100 samples (50 ms).
* A *session* (seeded by ``session_seed``) fixes the anatomy: the positions, spatial widths and
  spectral exponents of the shared background sources, the common-mode gradient, the spatial
  maps of the theta and beta rhythms, the gamma hot spots and the evoked-potential sites.
  Windows are then drawn independently from that stationary process with their own seed, just
  as a compression network is trained and evaluated on disjoint windows of one recording.
* Every window is the sum of
    1. common mode: one pink (1/f^a) process on all channels with a small linear gradient;
    2. shared background: K_BG pink sources, each seen through a Gaussian spatial kernel;
    3. theta (4-8 Hz): a broad, slow plane wave, present in most windows;
    4. beta (13-30 Hz) bursts: a travelling plane wave under a Gaussian time envelope;
    5. gamma (30-90 Hz) bursts: local oscillations at one of the gamma hot spots;
    6. evoked potentials: biphasic transients at one of the EP sites, spread to neighbouring
       channels with a Gaussian footprint and a conduction delay that grows with distance;
    7. local background: independent pink noise on every channel (not compressible);
    8. sensor noise: independent white Gaussian noise on every channel.
  All pink processes share one spectral shape ``PSD(f) ~ |HP(f)|^2 |LP(f)|^2 / (f_knee^a + f^a)``
  (1st-order high-pass at 1 Hz, 4th-order low-pass at 500 Hz, knee at 2 Hz); each window of
  a process is drawn exactly from its stationary Gaussian law: white noise coloured by the
  square root of the 100 x 100 Toeplitz autocovariance (the inverse FFT of the PSD), so there
  is no FFT wrap-around and no window-edge artefact.
* Normalisation: every window is divided by one fixed global constant, ``SCALE_UV`` (uV).
  No per-window or per-channel mean or gain is removed, so the decoder output times
  ``SCALE_UV`` is the signal in microvolts.

Usage:
    from lfp_synth import LFPSynth, normalise
    gen = LFPSynth(session_seed=2024)
    x_uv = gen.windows(1000, seed=1)          # float32 [1000, 96, 100], microvolts
    x = normalise(x_uv)                        # divided by SCALE_UV

``/usr/bin/python3 scripts/zoo/lfp_synth.py`` prints the power of each component.
"""
import numpy as np

FS_HZ = 2000.0          # sampling rate
WIN = 100               # samples per window (50 ms)
PITCH_MM = 0.4          # electrode pitch
GRID = 10               # 10 x 10 grid, corners unused -> 96 channels
N_CH = 96
SCALE_UV = 100.0        # fixed global normalisation: x_norm = x_uV / SCALE_UV

# Spectral shape shared by all pink processes
PINK_LEN = 16384        # FFT grid for the PSD -> autocovariance (0.12 Hz resolution)
F_KNEE_HZ = 2.0
F_HP_HZ = 1.0
F_LP_HZ = 500.0
LP_ORDER = 4

# Component parameters (amplitudes in microvolts)
P = dict(
    # common mode
    cm_rms=(10.0, 25.0), cm_alpha=2.0, cm_grad_per_mm=0.1,
    # shared background sources
    k_bg=3, bg_rms=(10.0, 30.0), bg_sigma_mm=(2.0, 4.0), bg_alpha=(1.8, 2.5),
    bg_margin_mm=1.0,
    # theta
    theta_p=0.7, theta_f=(4.0, 8.0), theta_amp=(10.0, 30.0), theta_sigma_mm=(2.0, 4.0),
    theta_speed_mm_s=(100.0, 500.0),
    # beta bursts
    beta_p=0.5, beta_f=(13.0, 30.0), beta_amp=(10.0, 30.0), beta_env_ms=(15.0, 60.0),
    beta_sigma_mm=(1.5, 4.0), beta_speed_mm_s=(100.0, 300.0),
    # gamma bursts
    n_gamma_sites=2, gamma_rate=1.0, gamma_f=(30.0, 90.0), gamma_amp=(5.0, 20.0),
    gamma_env_ms=(5.0, 20.0), gamma_sigma_mm=(0.5, 1.2), gamma_jitter_mm=0.2,
    # evoked potentials
    n_ep_sites=2, ep_rate=0.4, ep_amp=(40.0, 120.0), ep_w1_ms=(3.0, 8.0), ep_w2_ms=(6.0, 16.0),
    ep_lag_ms=(8.0, 20.0), ep_ratio=(0.4, 0.8), ep_sigma_mm=(0.6, 1.5),
    ep_speed_mm_s=(200.0, 500.0), ep_jitter_mm=0.2,
    # incompressible parts
    local_rms=2.5, local_alpha=1.0,
    white_rms=1.0,
)

COMPONENTS = ("common", "background", "theta", "beta", "gamma", "ep", "local", "white")


def channel_positions():
    """[96, 2] electrode (x, y) positions in mm, row-major, corners skipped."""
    pos = []
    for r in range(GRID):
        for c in range(GRID):
            if (r, c) in ((0, 0), (0, GRID - 1), (GRID - 1, 0), (GRID - 1, GRID - 1)):
                continue
            pos.append((c * PITCH_MM, r * PITCH_MM))
    return np.array(pos, dtype=np.float64)


def pink_psd(alpha, n=PINK_LEN, fs=FS_HZ):
    """One-sided PSD shape on the rfft grid of ``n`` samples (arbitrary scale)."""
    f = np.fft.rfftfreq(n, 1.0 / fs)
    psd = 1.0 / (F_KNEE_HZ ** alpha + f ** alpha)
    hp = (f / F_HP_HZ) ** 2 / (1.0 + (f / F_HP_HZ) ** 2)
    lp = 1.0 / (1.0 + (f / F_LP_HZ) ** (2 * LP_ORDER))
    return psd * hp * lp


_SQRT_COV = {}


def pink_sqrt_cov(alpha):
    """Matrix S [WIN, WIN] with S S^T = the unit-variance autocovariance (Toeplitz) of the
    pink process: the autocovariance is the inverse FFT of the PSD on a PINK_LEN grid."""
    key = round(float(alpha), 12)
    if key not in _SQRT_COV:
        r = np.fft.irfft(pink_psd(alpha))[:WIN]
        r = r / r[0]
        idx = np.abs(np.arange(WIN)[:, None] - np.arange(WIN)[None, :])
        lam, v = np.linalg.eigh(r[idx])
        _SQRT_COV[key] = v * np.sqrt(np.clip(lam, 0.0, None))[None, :]
    return _SQRT_COV[key]


def pink(rng, shape, alpha):
    """Unit-variance stationary pink processes, ``shape + (WIN,)``: white Gaussian vectors
    coloured by the square root of the 100 x 100 Toeplitz covariance implied by the PSD."""
    z = rng.standard_normal(shape + (WIN,))
    return z @ pink_sqrt_cov(alpha).T


def _u(rng, lohi, size=None):
    return rng.uniform(lohi[0], lohi[1], size)


class LFPSynth:
    def __init__(self, session_seed=2024, params=None):
        self.p = dict(P)
        if params:
            self.p.update(params)
        p = self.p
        rng = np.random.default_rng(session_seed)
        self.pos = channel_positions()
        ext = (GRID - 1) * PITCH_MM
        centre = np.array([ext / 2, ext / 2])
        # common mode: 1 + gradient . (r - centre)
        gdir = rng.standard_normal(2)
        gdir /= np.linalg.norm(gdir)
        self.cm_map = 1.0 + p["cm_grad_per_mm"] * (self.pos - centre) @ gdir
        # shared background sources
        k = p["k_bg"]
        src = rng.uniform(-p["bg_margin_mm"], ext + p["bg_margin_mm"], (k, 2))
        sig = _u(rng, p["bg_sigma_mm"], k)
        self.bg_alpha = _u(rng, p["bg_alpha"], k)
        self.bg_rms = _u(rng, p["bg_rms"], k)
        d2 = ((self.pos[None] - src[:, None]) ** 2).sum(-1)
        self.bg_maps = np.exp(-d2 / (2 * sig[:, None] ** 2))          # [k, 96]
        # theta: broad amplitude map, plane-wave direction and speed
        tc = rng.uniform(0, ext, 2)
        ts = _u(rng, p["theta_sigma_mm"])
        self.theta_map = np.exp(-((self.pos - tc) ** 2).sum(-1) / (2 * ts ** 2))
        self.theta_dir = rng.standard_normal(2)
        self.theta_dir /= np.linalg.norm(self.theta_dir)
        self.theta_speed = _u(rng, p["theta_speed_mm_s"])
        # beta: amplitude map; direction and speed drawn per burst
        bc = rng.uniform(0, ext, 2)
        bs = _u(rng, p["beta_sigma_mm"])
        self.beta_map = np.exp(-((self.pos - bc) ** 2).sum(-1) / (2 * bs ** 2))
        # gamma hot spots and EP sites
        self.gamma_sites = rng.uniform(0, ext, (p["n_gamma_sites"], 2))
        self.gamma_sigma = _u(rng, p["gamma_sigma_mm"], p["n_gamma_sites"])
        self.ep_sites = rng.uniform(0, ext, (p["n_ep_sites"], 2))
        self.ep_sigma = _u(rng, p["ep_sigma_mm"], p["n_ep_sites"])
        self.ep_speed = _u(rng, p["ep_speed_mm_s"], p["n_ep_sites"])
        self.ep_shape = [dict(w1=_u(rng, p["ep_w1_ms"]) / 1e3, w2=_u(rng, p["ep_w2_ms"]) / 1e3,
                              lag=_u(rng, p["ep_lag_ms"]) / 1e3, r=_u(rng, p["ep_ratio"]))
                         for _ in range(p["n_ep_sites"])]

    def components(self, n, seed):
        """Dict of the eight components, each float64 [n, 96, WIN] in microvolts."""
        p = self.p
        rng = np.random.default_rng(seed)
        t = np.arange(WIN) / FS_HZ                                     # [WIN] seconds
        out = {}
        # 1. common mode
        cm = pink(rng, (n,), p["cm_alpha"]) * _u(rng, p["cm_rms"], (n, 1))
        out["common"] = cm[:, None, :] * self.cm_map[None, :, None]
        # 2. shared background
        k = p["k_bg"]
        bg = np.empty((n, k, WIN))
        for j in range(k):
            bg[:, j] = pink(rng, (n,), self.bg_alpha[j]) * self.bg_rms[j]
        out["background"] = np.einsum("nkt,kc->nct", bg, self.bg_maps)
        # 3. theta plane wave
        on = rng.random(n) < p["theta_p"]
        f = _u(rng, p["theta_f"], n)
        a = _u(rng, p["theta_amp"], n) * on
        ph = rng.uniform(0, 2 * np.pi, n)
        delay = (self.pos @ self.theta_dir) / self.theta_speed        # [96] s
        arg = 2 * np.pi * f[:, None, None] * (t[None, None, :] - delay[None, :, None]) \
            + ph[:, None, None]
        out["theta"] = a[:, None, None] * self.theta_map[None, :, None] * np.cos(arg)
        # 4. beta burst, travelling wave
        on = rng.random(n) < p["beta_p"]
        f = _u(rng, p["beta_f"], n)
        a = _u(rng, p["beta_amp"], n) * on
        ph = rng.uniform(0, 2 * np.pi, n)
        ang = rng.uniform(0, 2 * np.pi, n)
        spd = _u(rng, p["beta_speed_mm_s"], n)
        dirs = np.stack([np.cos(ang), np.sin(ang)], -1)                  # [n, 2]
        delay = (dirs @ self.pos.T) / spd[:, None]                      # [n, 96]
        tc = rng.uniform(-0.02, WIN / FS_HZ + 0.02, n)
        env_s = _u(rng, p["beta_env_ms"], n) / 1e3
        env = np.exp(-(t[None, :] - tc[:, None]) ** 2 / (2 * env_s[:, None] ** 2))  # [n, WIN]
        arg = 2 * np.pi * f[:, None, None] * (t[None, None, :] - delay[:, :, None]) \
            + ph[:, None, None]
        out["beta"] = (a[:, None, None] * self.beta_map[None, :, None]
                       * env[:, None, :] * np.cos(arg))
        # 5. gamma bursts at the hot spots
        g = np.zeros((n, N_CH, WIN))
        nb = rng.poisson(p["gamma_rate"], n)
        for i in np.nonzero(nb)[0]:
            for _ in range(nb[i]):
                s = rng.integers(p["n_gamma_sites"])
                c = self.gamma_sites[s] + rng.normal(0, p["gamma_jitter_mm"], 2)
                m = np.exp(-((self.pos - c) ** 2).sum(-1) / (2 * self.gamma_sigma[s] ** 2))
                fg = _u(rng, p["gamma_f"])
                ag = _u(rng, p["gamma_amp"])
                tcg = rng.uniform(0, WIN / FS_HZ)
                es = _u(rng, p["gamma_env_ms"]) / 1e3
                w = ag * np.exp(-(t - tcg) ** 2 / (2 * es ** 2)) \
                    * np.cos(2 * np.pi * fg * t + rng.uniform(0, 2 * np.pi))
                g[i] += m[:, None] * w[None, :]
        out["gamma"] = g
        # 6. evoked potentials
        e = np.zeros((n, N_CH, WIN))
        ne = rng.poisson(p["ep_rate"], n)
        for i in np.nonzero(ne)[0]:
            for _ in range(ne[i]):
                s = rng.integers(p["n_ep_sites"])
                sh = self.ep_shape[s]
                c = self.ep_sites[s] + rng.normal(0, p["ep_jitter_mm"], 2)
                d = np.sqrt(((self.pos - c) ** 2).sum(-1))
                m = np.exp(-d ** 2 / (2 * self.ep_sigma[s] ** 2))
                t0 = rng.uniform(-0.005, WIN / FS_HZ) + d / self.ep_speed[s]   # [96]
                amp = _u(rng, p["ep_amp"]) * rng.choice([-1.0, 1.0])
                tt = t[None, :] - t0[:, None]
                w = np.exp(-tt ** 2 / (2 * sh["w1"] ** 2)) \
                    - sh["r"] * np.exp(-(tt - sh["lag"]) ** 2 / (2 * sh["w2"] ** 2))
                e[i] += amp * m[:, None] * w
        out["ep"] = e
        # 7. local (independent) pink background, 8. white sensor noise
        out["local"] = pink(rng, (n, N_CH), p["local_alpha"]) * p["local_rms"]
        out["white"] = rng.standard_normal((n, N_CH, WIN)) * p["white_rms"]
        return out

    def windows(self, n, seed, batch=64):
        """float32 [n, 96, WIN] in microvolts (sum of all components)."""
        xs = []
        for b in range(0, n, batch):
            m = min(batch, n - b)
            comp = self.components(m, seed=(seed, b))
            xs.append(sum(comp[k] for k in COMPONENTS).astype(np.float32))
        return np.concatenate(xs, 0)


def normalise(x_uv):
    """Fixed global scale: x / SCALE_UV (no mean removal, no per-window gain)."""
    return (np.asarray(x_uv, dtype=np.float32) / np.float32(SCALE_UV)).astype(np.float32)


def describe(session_seed=2024, n=2000, seed=7, batch=250):
    gen = LFPSynth(session_seed)
    parts = [gen.components(min(batch, n - b), seed=(seed, b)) for b in range(0, n, batch)]
    comp = {k: np.concatenate([q[k] for q in parts], 0) for k in COMPONENTS}
    tot = sum(comp[k] for k in COMPONENTS)
    ptot = float((tot ** 2).mean())
    print("component       rms_uV   share_of_power")
    for k in COMPONENTS:
        pk = float((comp[k] ** 2).mean())
        print("%-12s %9.2f   %6.2f %%" % (k, np.sqrt(pk), 100 * pk / ptot))
    print("total        %9.2f uV rms; after /SCALE_UV: rms %.3f, |max| %.3f, p99.9 |x| %.3f"
          % (np.sqrt(ptot), np.sqrt(ptot) / SCALE_UV, np.abs(tot).max() / SCALE_UV,
             np.percentile(np.abs(tot), 99.9) / SCALE_UV))
    inc = float(((comp["local"] + comp["white"]) ** 2).sum()) / float((tot ** 2).sum())
    print("incompressible (local+white) share %.2f %% -> SNDR ceiling about %.1f dB"
          % (100 * inc, -10 * np.log10(inc)))


if __name__ == "__main__":
    describe()
