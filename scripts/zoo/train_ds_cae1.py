"""Train the DS-CAE1-like neural-signal compression autoencoder and write zoo/ds_cae1/.

    /usr/bin/python3 scripts/zoo/train_ds_cae1.py

Input [N, 96, 100] (96 channels x 100 samples, Conv1d layout), latent [N, 8, 8] = 64 values
(compression ratio 9600 / 64 = 150), reconstruction [N, 96, 100].  Data: lfp_synth.py.
Outputs: ds_cae1.onnx, encoder.onnx, decoder.onnx, calib.npy, eval.npy, sample.npy,
sample_output.npy, float_metrics.json, model_card.md.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lfp_synth  # noqa: E402
import zoo_common as zc  # noqa: E402

SEED = 1234
SESSION_SEED = 2024          # the synthetic "recording" (anatomy of the sources)
TRAIN_SEED, CALIB_SEED, EVAL_SEED, HELDOUT_SEED = 101, 202, 303, 404
LATENT_C, LATENT_L = 8, 8
N_TRAIN_DEFAULT = 12000      # training windows (the --ntrain default)
BN_BIAS_INIT = 1.5           # BatchNorm shift at init: ReLUs start mostly in their linear range


def train_windows(n, gen=None, stream=N_TRAIN_DEFAULT):
    """The first ``n`` windows of the training stream of ``stream`` windows, normalised
    (float32 [n, 96, 100]).  ``LFPSynth.windows`` seeds every block of 64 windows on its own,
    ``(TRAIN_SEED, b)``, so only the blocks covering the first n windows are generated.
    make_train_splits.py uses this for zoo/ds_cae1/train.npy."""
    assert 0 < n <= stream, (n, stream)
    gen = gen or lfp_synth.LFPSynth(session_seed=SESSION_SEED)
    m = min(-(-n // 64) * 64, stream)   # a short last block is drawn differently: keep it whole
    return lfp_synth.normalise(gen.windows(m, seed=TRAIN_SEED))[:n]


def dsconv(cin, cout, k, relu=True, bn=True):
    """Depthwise (groups=cin, 'same' padding) then pointwise 1x1 [+ BN] [+ ReLU]."""
    layers = [nn.Conv1d(cin, cin, k, padding=k // 2, groups=cin, bias=False),
              nn.Conv1d(cin, cout, 1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm1d(cout))
    if relu:
        layers.append(nn.ReLU())
    return layers


def up(cin, cout, k, s, p=0):
    return [nn.ConvTranspose1d(cin, cout, k, stride=s, padding=p, bias=False),
            nn.BatchNorm1d(cout), nn.ReLU()]


class Encoder(nn.Sequential):
    def __init__(self):
        super().__init__(
            *dsconv(96, 32, 5),                       # [32, 100]
            nn.AvgPool1d(2, 2, count_include_pad=False),                       # [32, 50]
            *dsconv(32, 32, 5),
            nn.AvgPool1d(2, 2, count_include_pad=False),                       # [32, 25]
            *dsconv(32, 32, 3),
            nn.AvgPool1d(3, 3, count_include_pad=False),                       # [32, 8]  (sample 24 reaches 23 via k=3)
            *dsconv(32, LATENT_C, 3, relu=False, bn=False),   # latent [8, 8], linear
        )


class Decoder(nn.Sequential):
    def __init__(self):
        super().__init__(
            *up(LATENT_C, 32, 4, 3),                  # (8-1)*3+4 = 25 -> [32, 25]
            *dsconv(32, 32, 3),
            *up(32, 32, 4, 2, 1),                     # (25-1)*2-2+4 = 50 -> [32, 50]
            *dsconv(32, 32, 5),
            *up(32, 32, 4, 2, 1),                     # 100 -> [32, 100]
            *dsconv(32, 96, 5, relu=False, bn=False),  # linear output [96, 100]
        )


class CAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x):
        return self.decoder(self.encoder(x))


def sndr_db(x, xh):
    x = x.astype(np.float64)
    xh = xh.astype(np.float64)
    return float(10 * np.log10((x ** 2).sum() / ((x - xh) ** 2).sum()))


def r2(x, xh):
    x = x.astype(np.float64)
    xh = xh.astype(np.float64)
    mean_c = x.mean(axis=(0, 2), keepdims=True)      # per-channel mean over windows and time
    return float(1 - ((x - xh) ** 2).sum() / ((x - mean_c) ** 2).sum())


def predict(model, x, bs=256):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(model(torch.from_numpy(x[i:i + bs])).numpy())
    return np.concatenate(out, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ntrain", type=int, default=N_TRAIN_DEFAULT)
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--out", default=None, help="output dir (default zoo/ds_cae1)")
    args = ap.parse_args()

    timer = zc.Timer()
    zc.setup(SEED)
    out = args.out or zc.zoo_dir("ds_cae1")
    os.makedirs(out, exist_ok=True)

    gen = lfp_synth.LFPSynth(session_seed=SESSION_SEED)
    xtr = train_windows(args.ntrain, gen, stream=args.ntrain)
    xcal = lfp_synth.normalise(gen.windows(32, seed=CALIB_SEED))
    xev = lfp_synth.normalise(gen.windows(64, seed=EVAL_SEED))
    xho = lfp_synth.normalise(gen.windows(2000, seed=HELDOUT_SEED))
    t_data = timer()
    comp = gen.components(500, seed=HELDOUT_SEED + 1)
    tot = sum(comp[k] for k in lfp_synth.COMPONENTS)
    inc = float(((comp["local"] + comp["white"]) ** 2).sum() / (tot ** 2).sum())
    data_stats = {"rms": float(np.sqrt((xtr ** 2).mean())), "absmax": float(np.abs(xtr).max()),
                  "p999": float(np.percentile(np.abs(xtr[:2000]), 99.9)),
                  "incompressible_share": inc, "sndr_ceiling_db": float(-10 * np.log10(inc)),
                  "shares": {k: float((comp[k] ** 2).sum() / (tot ** 2).sum())
                             for k in lfp_synth.COMPONENTS}}
    print("data %.1fs  train %s  rms %.3f" % (t_data, xtr.shape, np.sqrt((xtr ** 2).mean())))

    model = CAE()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            nn.init.constant_(m.bias, BN_BIAS_INIT)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = args.ntrain // args.bs
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    xt = torch.from_numpy(xtr)
    g = torch.Generator().manual_seed(SEED)
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(args.ntrain, generator=g)
        tot = 0.0
        for i in range(steps_per_epoch):
            xb = xt[perm[i * args.bs:(i + 1) * args.bs]]
            loss = ((model(xb) - xb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        if ep % 5 == 4 or ep == args.epochs - 1:
            print("epoch %d  train mse %.5f  held-out SNDR %.2f dB  (%.0fs)" % (
                ep + 1, tot / steps_per_epoch, sndr_db(xho[:500], predict(model, xho[:500])),
                timer()))
    t_train = timer() - t_data

    model.eval()
    yev = predict(model, xev)
    yho = predict(model, xho)
    metrics = {"sndr_db": sndr_db(xev, yev), "r2": r2(xev, yev)}
    ho = {"sndr_db": sndr_db(xho, yho), "r2": r2(xho, yho)}
    print("eval.npy: %s   held-out 2000: %s" % (metrics, ho))

    # ---- files
    sample = xev[:1]
    zc.save_f32(os.path.join(out, "calib.npy"), xcal)
    zc.save_f32(os.path.join(out, "eval.npy"), xev)
    zc.save_f32(os.path.join(out, "sample.npy"), sample)
    zc.save_f32(os.path.join(out, "sample_output.npy"), predict(model, sample))
    zc.write_json(os.path.join(out, "float_metrics.json"), metrics)

    ex = torch.from_numpy(np.concatenate([sample, sample], 0))
    lat = model.encoder(ex).detach()
    assert tuple(lat.shape[1:]) == (LATENT_C, LATENT_L) and LATENT_C * LATENT_L == 64
    exp_full = zc.export_onnx(model, ex, os.path.join(out, "ds_cae1.onnx"))
    exp_enc = zc.export_onnx(model.encoder, ex, os.path.join(out, "encoder.onnx"))
    exp_dec = zc.export_onnx(model.decoder, lat, os.path.join(out, "decoder.onnx"))

    rows = zc.layer_table(model, ex)
    tot_ = zc.totals(rows)
    rows_enc = [r for r in rows if r["name"].startswith("encoder.")]
    rows_dec = [r for r in rows if r["name"].startswith("decoder.")]
    summary = {
        "metrics_eval": metrics, "metrics_heldout2000": ho, "totals": tot_,
        "macs_encoder": sum(r["macs"] for r in rows_enc),
        "macs_decoder": sum(r["macs"] for r in rows_dec),
        "onnx": {os.path.basename(e["path"]): {k: v for k, v in e.items() if k != "path"}
                 for e in (exp_full, exp_enc, exp_dec)},
        "data": data_stats, "time_data_s": t_data, "time_train_s": t_train, "time_total_s": timer(),
        "args": vars(args),
    }
    write_card(out, rows, summary)
    for e in (exp_full, exp_enc, exp_dec):
        print(os.path.basename(e["path"]), e["op_set"], e["input_shape"], "->",
              e["output_shape"], "params", e["onnx_float_params"],
              "numpy err %.2e" % e["numpy_vs_torch_max_abs_err"])
    print("params (torch) %d, BN %d, MACs %d (enc %d, dec %d); total time %.0fs" % (
        tot_["params_torch"], tot_["params_bn"], tot_["macs"], summary["macs_encoder"],
        summary["macs_decoder"], timer()))


def write_card(out, rows, s):
    t = s["totals"]
    o = s["onnx"]
    a = s["args"]
    p = lfp_synth.P
    lines = f"""# DS-CAE1-like neural-signal compression autoencoder (`ds_cae1`)

Generated by `scripts/zoo/train_ds_cae1.py` (do not edit by hand; re-run the script).

## Purpose

A stand-in for the DS-CAE1 convolutional autoencoder that RAMAN runs for BCI neural-signal
compression (docs/references.md section 1): 96 channels x 100 samples (50 ms at 2 kHz) are encoded
into a latent of 64 values, compression ratio CR = 9600 / 64 = **150** (the published maximum),
and decoded back.  The encoder is what would run on the implant; the decoder runs off-chip.
The exact layers are ours (the paper gives only the layer kinds); see docs/zoo.md.

## Files

| file | content |
|---|---|
| `ds_cae1.onnx` | whole autoencoder, `input` [N, 96, 100] -> `output` [N, 96, 100] |
| `encoder.onnx` | `input` [N, 96, 100] -> `output` latent [N, {LATENT_C}, {LATENT_L}] ({LATENT_C * LATENT_L} values) |
| `decoder.onnx` | `input` latent [N, {LATENT_C}, {LATENT_L}] -> `output` [N, 96, 100] |
| `calib.npy` | 32 windows float32 [32, 96, 100] (calibration stream, seed {CALIB_SEED}) |
| `eval.npy` | 64 windows float32 [64, 96, 100] (evaluation stream, seed {EVAL_SEED}) |
| `sample.npy` | float32 [1, 96, 100] = `eval.npy[0:1]` |
| `sample_output.npy` | float32 [1, 96, 100], the float (torch) reconstruction of `sample.npy` |
| `float_metrics.json` | SNDR and R2 of the float model on `eval.npy` |
| `train.npy` | float32 [2048, 96, 100]: the first 2048 windows of the training stream (seed 101, normalised as below; `train_ds_cae1.train_windows`), generated by `scripts/zoo/make_train_splits.py` (run by `scripts/setup.sh`), not committed |

All three streams (train, calib, eval) are disjoint draws (different seeds) from one synthetic
session (`session_seed={SESSION_SEED}`).

`train.npy` is the data for `prunesim finetune`: the autoencoder's target is its input, so
`ds_cae1.onnx` takes `--labels train.npy`; `encoder.onnx` has no labels of its own and is
distilled from the dense encoder.

## Input / output and normalisation

* Input: float32 [N, 96, 100], channels x time (Conv1d layout, 96 input channels, length 100).
  Channel c is electrode c of a 10 x 10 Utah-style grid (0.4 mm pitch) with the four corners
  unused, numbered row-major.
* Normalisation: one fixed global scale, `x = x_uV / {lfp_synth.SCALE_UV:g}` (SCALE_UV in
  `lfp_synth.py`); no mean removal, no per-window gain.  Over the training data this gives
  an rms of {s['data']['rms']:.3f}, a 99.9th percentile of |x| of {s['data']['p999']:.2f} and
  max |x| {s['data']['absmax']:.2f}.
* Output: the reconstruction in the same units (multiply by {lfp_synth.SCALE_UV:g} for uV).
  The last layer is linear (no ReLU); the latent is linear too (signed).

## Layers

BatchNorm layers are folded into the preceding Conv / ConvTranspose before export
(`zoo_common.fold_bn`), so the `.onnx` graphs have no BatchNormalization node.  MACs are per
window: a convolution counts (output elements) x (Cin/groups) x kernel; a transposed
convolution counts (input elements) x (Cout/groups) x kernel; bias adds, pooling and ReLU count
0 MACs.

{zc.table_markdown(rows)}

Totals: **{t['params_torch']} parameters** in torch ({t['params_bn']} of them BatchNorm);
**{o['ds_cae1.onnx']['onnx_float_params']} float parameters in `ds_cae1.onnx`** after folding
(encoder {o['encoder.onnx']['onnx_float_params']}, decoder {o['decoder.onnx']['onnx_float_params']});
**{t['macs']} MACs** per window (encoder {s['macs_encoder']}, decoder {s['macs_decoder']}).

ONNX op types: `ds_cae1.onnx` {', '.join(o['ds_cae1.onnx']['op_set'])};
`encoder.onnx` {', '.join(o['encoder.onnx']['op_set'])};
`decoder.onnx` {', '.join(o['decoder.onnx']['op_set'])}.
Each export passed `onnx.checker`, full shape inference, the op-set check, and a NumPy
re-evaluation of the graph that matches torch to
{max(v['numpy_vs_torch_max_abs_err'] for v in o.values()):.1e} (max abs).

## Training

* Data: {a['ntrain']} windows from `lfp_synth.LFPSynth(session_seed={SESSION_SEED}).windows(n, seed={TRAIN_SEED})`,
  normalised as above.
* Loss: MSE on the reconstruction.  Adam, lr {a['lr']} with a cosine decay to 0 over
  {a['epochs']} epochs, batch {a['bs']}.  Every BatchNorm shift starts at {BN_BIAS_INIT} instead
  of 0, so the ReLUs start mostly in their linear range (without it the ReLU network
  often stalls near 8 dB, see docs/zoo.md).  `torch.manual_seed({SEED})`, NumPy seed {SEED},
  one thread, deterministic algorithms.
* Wall time: data {s['time_data_s']:.0f} s, training {s['time_train_s']:.0f} s, total
  {s['time_total_s']:.0f} s (one CPU thread).

## Dataset / generator

`scripts/zoo/lfp_synth.py` (full description in docs/zoo.md).  Per window, the sum of: a
common-mode pink process with a small spatial gradient; {p['k_bg']} shared pink background
sources (1/f^a, a in {p['bg_alpha']}) seen through Gaussian spatial kernels (sigma
{p['bg_sigma_mm']} mm); theta (4-8 Hz) plane waves; beta (13-30 Hz) travelling-wave bursts;
gamma (30-90 Hz) bursts at {p['n_gamma_sites']} hot spots; biphasic evoked potentials at
{p['n_ep_sites']} sites spreading to neighbouring channels with a conduction delay;
independent per-channel pink noise ({p['local_rms']} uV rms) and white sensor noise
({p['white_rms']} uV rms).  Share of the power (500 windows): {', '.join('%s %.1f %%' % (k, 100 * v) for k, v in s['data']['shares'].items())}.
The two independent parts (local + white) are {100 * s['data']['incompressible_share']:.2f} % of
the power, which caps the achievable SNDR near {s['data']['sndr_ceiling_db']:.1f} dB.

## Float metrics (torch model)

Definitions (the C++ computes the same): SNDR_dB = 10 log10( sum x^2 / sum (x - xhat)^2 ) over
the whole set; R2 = 1 - sum (x - xhat)^2 / sum (x - mean_c)^2 with mean_c the per-channel mean
over all windows and samples of the set.

| set | SNDR (dB) | R2 |
|---|---:|---:|
| `eval.npy` (64 windows) | {s['metrics_eval']['sndr_db']:.2f} | {s['metrics_eval']['r2']:.4f} |
| 2000 further held-out windows (seed {HELDOUT_SEED}, not stored) | {s['metrics_heldout2000']['sndr_db']:.2f} | {s['metrics_heldout2000']['r2']:.4f} |

`eval.npy` is small (64 windows, chosen to keep the file at 2.4 MB), so its SNDR differs from
the larger held-out set by about a dB; the C++ evaluates on `eval.npy`.

For comparison, the RAMAN paper reports SNDR 22.6 / 27.4 dB and R2 0.81 / 0.94 on two real
monkey recordings (a different R2 baseline; not directly comparable with synthetic data).

## int8 (prunesim)

TBD: filled from prunesim eval
"""
    with open(os.path.join(out, "model_card.md"), "w") as f:
        f.write(lines)


if __name__ == "__main__":
    main()
