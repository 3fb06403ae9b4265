#!/usr/bin/env python3
"""Plots of a `triscan study` (docs/study.md), rendered from its results.csv.

    python3 validation/plot_report.py RESULTS.csv OUTDIR

Writes, for every precision in the file:
  error_vs_n_<precision>.png  one panel per method: forward_error_inf against n, one
                              colour per input generator (dots: runs, line: median
                              over seeds), the method's theoretical bound for the same
                              input dashed where it is below 1 (a relative bound
                              >= 1 says nothing); runs whose error is NaN/inf (overflow,
                              non-finite output) are drawn as red X in a band above the
                              axis, `inaccurate` runs as hollow squares, `not_converged`
                              as triangles: flagged runs are never dropped.
  heatmap_<precision>.png     method x generator: log10 of the largest relative
                              Frobenius forward error over sizes and seeds (the number in
                              report.md's tables); cells with a NaN/inf run are hatched
                              and say how many, flagged statuses are written in the cell.
Kind "scan" studies (the `kind` column) get instead, for every precision (operand format
with its state format):
  scan_error_vs_length_<precision>.png  one panel per scan kind: forward_error against the
                              length T, one colour per algorithm (line: median over
                              seeds, dots: runs), the a-priori bound ‖b‖₂/‖H‖_F dashed in
                              the same colour; NaN/inf errors as red X in a top band.
  heatmap_<precision>.png     algorithm x scan kind: the largest forward_error.
Kind "wy" studies get, for every precision:
  heatmap_<precision>.png     representation x generator: the largest representation_error
                              (empty where a chunk/ representation does not fit a generator).
  orthogonality_<precision>.png  the same for orthogonality_loss (householder/ rows with
                              reflectors), when any is finite.
  wy_error_vs_chunk_<precision>.png  (when the study has two or more chunk sizes C) w_error
                              and u_error against C, one panel per metric, one colour per
                              chunk/ representation and generator (line: median over
                              seeds, dots: runs), wy_error_bound dashed; NaN/inf as red X.
Kind "inversion" studies also get, for every precision:
  residual_vs_n_<precision>.png  as error_vs_n, for the right residual
                              ‖LX − I‖∞ / (‖L‖∞ ‖X‖∞) (no bound lines).
Kind "delta" studies (the chunkwise delta-rule forward) get, for every precision (operand
format with its state format):
  delta_error_vs_length_<precision>.png  two rows of panels (output_error, state_error),
                              one panel per family: the error against T, one colour per
                              chunk size C (line: median over seeds, dots: runs), the
                              first-order bound dashed where < 1; NaN/inf errors (overflow)
                              as red X in a top band, other statuses as hollow squares.
  delta_heatmap_<precision>.png  chunk size x family: the largest output_error.
A results file with rows of several kinds (a study of parts) gets each kind's plots, every
name starting with the kind ("scan_heatmap_...", "inversion_error_vs_n_..."), so that the
report can place them in the part's section.
Exit status 3 when matplotlib (or numpy) is missing, so the driver can say why the
report has no plots.
"""
import csv
import math
import os
import re
import sys
from collections import OrderedDict, defaultdict

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError as e:  # the driver turns exit 3 into "plots skipped: no matplotlib"
    print(f"plot_report.py: {e}", file=sys.stderr)
    sys.exit(3)

STATUS_SHORT = {"inaccurate": "inacc", "not_converged": "nc", "overflow": "ovf",
                "singular": "sing", "nonfinite_input": "nfin", "unsupported": "unsup"}


def number(s):
    try:
        return float(s)
    except ValueError:
        return math.nan


NUMERIC = ("forward_error", "forward_error_inf", "bound", "kappa", "cond", "growth", "w_error", "u_error",
           "representation_error", "orthogonality_loss", "max_rel_error", "bound_ratio", "right_residual",
           "output_error", "state_error", "state_bound")


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        # An empty field is a metric that does not apply to the row's kind (NaN here; the
        # plots of that kind never read it). Older files lack the wy/scan columns.
        for k in NUMERIC:
            r[k] = number(r.get(k) or "")
        r["n"] = int(r["n"])
        r["kind"] = r.get("kind") or "inversion"
    return rows


def ordered(values):
    return list(OrderedDict.fromkeys(values))


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def short_method(m):
    return m.replace("trinv/", "")


def informative(bound):
    """A relative-error bound says something only below 1; larger ones are not drawn."""
    return math.isfinite(bound) and bound < 1


def error_vs_n(rows, precision, out_dir, metric="forward_error_inf", bounds=True, ylabel="‖X − X_ref‖∞ / ‖X_ref‖∞",
               title="Forward error vs n", name="error_vs_n"):
    methods = ordered(r["method"] for r in rows)
    generators = ordered(r["generator"] for r in rows)
    palette = plt.cm.tab10 if len(generators) <= 10 else plt.cm.tab20
    colours = {g: palette(i % palette.N) for i, g in enumerate(generators)}
    finite = [r[metric] for r in rows if math.isfinite(r[metric])]
    positive = [e for e in finite if e > 0]
    floor = min(positive) / 10 if positive else 1e-20
    top = max(finite + [b for b in (r["bound"] for r in rows) if bounds and informative(b)] + [floor * 100])
    any_nonfinite = any(not math.isfinite(r[metric]) for r in rows)
    band = top * 30  # where non-finite errors are drawn (only when there are any)
    cols = min(3, len(methods))
    nrows = math.ceil(len(methods) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(5.2 * cols, 3.6 * nrows), squeeze=False, sharex=True,
                             sharey=True)
    sizes = sorted({r["n"] for r in rows})
    for ax, method in zip(axes.flat, methods):
        mrows = [r for r in rows if r["method"] == method]
        for g in generators:
            grows = [r for r in mrows if r["generator"] == g]
            if not grows:
                continue
            c = colours[g]
            med_n, med_e, bound_n, bound_v = [], [], [], []
            for n in sizes:
                at = [r for r in grows if r["n"] == n]
                errs = [max(r[metric], floor) for r in at if math.isfinite(r[metric])]
                if errs and len(errs) == len(at):
                    med_n.append(n)
                    med_e.append(float(np.median(errs)))
                bs = [r["bound"] for r in at if bounds and informative(r["bound"])]
                if bs:
                    bound_n.append(n)
                    bound_v.append(max(bs))
            ax.plot(med_n, med_e, "-", color=c, lw=1.2, label=g)
            if bound_n:
                ax.plot(bound_n, bound_v, "--", color=c, lw=1.0, alpha=0.8)
            for r in grows:
                e = r[metric]
                jitter = r["n"] * (1 + 0.04 * (generators.index(g) - len(generators) / 2) / len(generators))
                if not math.isfinite(e):
                    ax.plot(jitter, band, "X", color="red", ms=8, mec="black", mew=0.5)
                elif r["status"] == "inaccurate":
                    ax.plot(jitter, max(e, floor), "s", mfc="none", mec=c, ms=6)
                elif r["status"] == "not_converged":
                    ax.plot(jitter, max(e, floor), "^", color=c, ms=6)
                else:
                    ax.plot(jitter, max(e, floor), ".", color=c, ms=4)
        if any_nonfinite:
            ax.axhline(band / 3, color="0.6", lw=0.6)
        ax.set_title(short_method(method), fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(n) for n in sizes])
        ax.set_ylim(floor / 2, band * 5 if any_nonfinite else top * 5)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.flat[len(methods):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1, :]:
        ax.set_xlabel("n")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D
    extra = [(Line2D([], [], ls="--", color="0.3"), "theoretical bound (same colour; drawn where < 1)")] if bounds else []
    extra += [(Line2D([], [], marker="X", ls="", color="red", mec="black"), "NaN/inf (overflow): top band"),
              (Line2D([], [], marker="s", ls="", mfc="none", mec="0.3"), "status inaccurate"),
              (Line2D([], [], marker="^", ls="", color="0.3"), "status not_converged")]
    handles += [h for h, _ in extra]
    labels += [t for _, t in extra]
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(f"{title} — {precision} (line: median over seeds; dots: runs)", fontsize=11)
    fig.tight_layout(rect=(0, 0.04 + 0.02 * math.ceil(len(labels) / 4), 1, 0.97))
    path = os.path.join(out_dir, f"{name}_{slug(precision)}.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def heatmap(rows, precision, out_dir, metric="forward_error", metric_label="log10 max ‖X − X_ref‖_F / ‖X_ref‖_F",
            title="largest forward error over sizes and seeds", name="heatmap"):
    methods = ordered(r["method"] for r in rows)
    generators = ordered(r["generator"] for r in rows)
    value = np.full((len(methods), len(generators)), np.nan)
    text = [["" for _ in generators] for _ in methods]
    nonfinite = np.zeros_like(value)
    exact = np.zeros(value.shape, dtype=bool)
    groups = defaultdict(list)
    for r in rows:
        groups[(r["method"], r["generator"])].append(r)
    for i, m in enumerate(methods):
        for j, g in enumerate(generators):
            grp = groups.get((m, g), [])
            if not grp:  # not run (a chunk/ representation that does not fit the generator)
                continue
            errs = [r[metric] for r in grp if math.isfinite(r[metric])]
            if errs and max(errs) > 0:
                value[i, j] = math.log10(max(errs))
            elif errs:
                exact[i, j] = True  # every finite error is exactly 0: coloured as the smallest value
            bad = sum(1 for r in grp if not math.isfinite(r[metric]))
            nonfinite[i, j] = bad
            cell = ("0 (exact)" if max(errs) == 0 else f"{max(errs):.1e}") if errs else "—"
            flags = defaultdict(int)
            for r in grp:
                if r["status"] != "ok":
                    flags[STATUS_SHORT.get(r["status"], r["status"])] += 1
            for s, k in sorted(flags.items()):
                cell += f"\n{s} {k}/{len(grp)}"
            text[i][j] = cell
    fig, ax = plt.subplots(figsize=(1.25 * len(generators) + 3.5, 0.55 * len(methods) + 2.2))
    finite_vals = value[np.isfinite(value)]
    vmin, vmax = (finite_vals.min(), finite_vals.max()) if finite_vals.size else (-16, 0)
    if vmax - vmin < 1:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    value[exact] = vmin
    im = ax.imshow(np.ma.masked_invalid(value), cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(len(methods)):
        for j in range(len(generators)):
            if nonfinite[i, j] > 0:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xxx", ec="red", lw=0))
            colour = "white" if np.isfinite(value[i, j]) and value[i, j] < (vmin + vmax) / 2 else "black"
            box = None
            if nonfinite[i, j] > 0:  # readable over the hatching
                colour, box = "black", dict(facecolor="white", alpha=0.85, lw=0, pad=1.0)
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=6.5, color=colour, bbox=box)
    ax.set_xticks(range(len(generators)))
    ax.set_xticklabels(generators, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(methods)))
    ax.set_yticklabels([short_method(m) for m in methods], fontsize=8)
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(metric_label)
    ax.set_title(f"{precision}: {title}\n"
                 "(red hatching: runs with NaN/inf error; statuses other than ok written in the cell)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"{name}_{slug(precision)}.png"), dpi=90)
    plt.close(fig)


def rounding_comparison(rows, fmt, out_dir, name="rounding"):
    """Median forward error vs n per rounding mode (same operand format), with n and sqrt(n)
    reference slopes: stochastic rounding's error grows like sqrt(n) u with high probability,
    round to nearest's worst case like n u (Connolly, Higham & Mary 2021)."""
    methods = ordered(r["method"] for r in rows)
    generators = ordered(r["generator"] for r in rows)
    modes = ordered(r["rounding"] for r in rows)
    styles = ["-", "--", ":", "-."]
    colours = {g: plt.cm.tab10(i % 10) for i, g in enumerate(generators)}
    sizes = sorted({r["n"] for r in rows})
    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods), 4), squeeze=False, sharey=True)
    for ax, method in zip(axes[0], methods):
        ref = None
        for g in generators:
            for k, mode in enumerate(modes):
                pts = []
                for n in sizes:
                    errs = [r["forward_error_inf"] for r in rows if r["method"] == method and r["generator"] == g
                            and r["rounding"] == mode and r["n"] == n]
                    finite = [e for e in errs if math.isfinite(e) and e > 0]
                    if finite and len(finite) == len(errs):
                        pts.append((n, float(np.median(finite))))
                if pts:
                    ax.plot(*zip(*pts), styles[k % 4], color=colours[g], marker="o", ms=3, label=f"{g}, {mode}")
                    ref = ref or pts[0]
        if ref:
            n0, e0 = ref
            xs = np.array(sizes, dtype=float)
            ax.plot(xs, e0 * xs / n0, color="0.5", lw=0.8, label="∝ n")
            ax.plot(xs, e0 * np.sqrt(xs / n0), color="0.5", lw=0.8, ls=(0, (1, 3)), label="∝ √n")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(n) for n in sizes])
        ax.set_title(short_method(method), fontsize=9)
        ax.set_xlabel("n")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("median ‖X − X_ref‖∞ / ‖X_ref‖∞")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"{fmt}: rounding modes compared (median over seeds; grey: slopes n and √n)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"{name}_{slug(fmt)}.png"), dpi=90)
    plt.close(fig)


def scan_error_vs_length(rows, precision, out_dir):
    """forward_error against T per scan kind, one colour per algorithm, bounds dashed."""
    panels = [(kind, [r for r in rows if r["generator"] == kind], "forward_error", "‖H − H_ref‖_F / ‖H_ref‖_F")
              for kind in ordered(r["generator"] for r in rows)]
    error_vs_size_panels(rows, out_dir, panels, lambda r: r["method"].replace("scan/", ""), "sequence length T",
                         f"Scan error vs length — {precision} (line: median over seeds; dots: runs)",
                         os.path.join(out_dir, f"scan_error_vs_length_{slug(precision)}.png"),
                         bound_of=lambda r, metric: r["bound"])


def error_vs_size_panels(rows, out_dir, panels, series_of, x_label, title, path, bound_of=None, ncols=None):
    """Generic log-log panels: `panels` is a list of (title, rows, metric, ylabel); within
    each, one colour per series (series_of(row)); median over seeds as a line, runs as
    dots, bound_of(row, metric) dashed where finite and < 1; NaN/inf as red X in a top band,
    statuses other than ok as hollow squares."""
    from matplotlib.lines import Line2D
    series = ordered(series_of(r) for r in rows)
    palette = plt.cm.tab10 if len(series) <= 10 else plt.cm.tab20
    colours = {a: palette(i % palette.N) for i, a in enumerate(series)}
    xs_all = sorted({r["n"] for r in rows})
    vals = [r[m] for _, prow, m, _ in panels for r in prow if math.isfinite(r[m]) and r[m] > 0]
    floor = min(vals) / 10 if vals else 1e-20
    bvals = [bound_of(r, m) for _, prow, m, _ in panels for r in prow] if bound_of else []
    top = max(vals + [b for b in bvals if informative(b)] + [floor * 100])
    any_nonfinite = any(not math.isfinite(r[m]) for _, prow, m, _ in panels for r in prow)
    band = top * 30
    ncols = min(len(panels), ncols or len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.8 * nrows), squeeze=False, sharey=True)
    for ax, (ptitle, prow, metric, ylabel) in zip(axes.flat, panels):
        for k, a in enumerate(series):
            arows = [r for r in prow if series_of(r) == a]
            med, bnd = [], []
            for x in xs_all:
                at = [r for r in arows if r["n"] == x]
                errs = [max(r[metric], floor) for r in at if math.isfinite(r[metric])]
                if errs and len(errs) == len(at):
                    med.append((x, float(np.median(errs))))
                if bound_of:
                    bs = [bound_of(r, metric) for r in at if informative(bound_of(r, metric))]
                    if bs:
                        bnd.append((x, max(bs)))
            if med:
                ax.plot(*zip(*med), "-", color=colours[a], lw=1.3, label=a)
            if bnd:
                ax.plot(*zip(*bnd), "--", color=colours[a], lw=0.9, alpha=0.8)
            for r in arows:
                x = r["n"] * (1 + 0.05 * (k - len(series) / 2) / max(len(series), 1))
                e = r[metric]
                if not math.isfinite(e):
                    ax.plot(x, band, "X", color="red", ms=8, mec="black", mew=0.5)
                elif r["status"] != "ok":
                    ax.plot(x, max(e, floor), "s", mfc="none", mec=colours[a], ms=6)
                else:
                    ax.plot(x, max(e, floor), ".", color=colours[a], ms=3)
        if any_nonfinite:
            ax.axhline(band / 3, color="0.6", lw=0.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs_all)
        ax.set_xticklabels([str(x) for x in xs_all], fontsize=7)
        ax.set_ylim(floor / 2, band * 5 if any_nonfinite else top * 5)
        ax.set_title(ptitle, fontsize=9)
        ax.set_xlabel(x_label)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for hdl, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(hdl)
                labels.append(lab)
    extra = [(Line2D([], [], ls="--", color="0.3"), "first-order bound (same colour; drawn where < 1)")] if bound_of else []
    extra += [(Line2D([], [], marker="X", ls="", color="red", mec="black"), "NaN/inf error (overflow): top band"),
              (Line2D([], [], marker="s", ls="", mfc="none", mec="0.3"), "status other than ok")]
    handles += [h for h, _ in extra]
    labels += [t for _, t in extra]
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05 + 0.03 * math.ceil(len(labels) / 4), 1, 0.95))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def delta_error_vs_length(rows, precision, out_dir, prefix):
    """output_error and state_error against T, one panel per family, one colour per C."""
    families = ordered(r["generator"] for r in rows)
    panels = []
    for metric, ylabel in (("output_error", "‖O − O_ref‖_F / ‖O_ref‖_F"), ("state_error", "‖S_T − S_ref‖_F / ‖S_ref‖_F")):
        for f in families:
            panels.append((f + " — " + metric, [r for r in rows if r["generator"] == f], metric, ylabel))
    # one row of panels per metric, one column per family
    bound = lambda r, m: r["bound"] if m == "output_error" else r["state_bound"]
    error_vs_size_panels(rows, out_dir, panels, lambda r: r["method"].replace("chunkwise/", ""), "sequence length T",
                         f"Chunkwise delta-rule forward: error vs length — {precision} (line: median over seeds; dots: runs)",
                         os.path.join(out_dir, f"{prefix}error_vs_length_{slug(precision)}.png"), bound,
                         ncols=len(families))


def wy_error_vs_chunk(rows, precision, out_dir, prefix):
    """w_error and u_error against the chunk size C for the chunk/ representations."""
    crow = [r for r in rows if r["method"].startswith("chunk/") and (math.isfinite(r["w_error"]) or r["status"] != "ok")]
    if len({r["n"] for r in crow}) < 2:
        return
    panels = [(m, crow, m, f"{m} (‖·−·_ref‖_F / ‖·_ref‖_F)") for m in ("w_error", "u_error")]
    error_vs_size_panels(crow, out_dir, panels, lambda r: r["method"].replace("chunk/", "") + " on " + r["generator"],
                         "chunk size C",
                         f"Chunk WY: error vs chunk size — {precision} (line: median over seeds; dots: runs)",
                         os.path.join(out_dir, f"{prefix}wy_error_vs_chunk_{slug(precision)}.png"),
                         lambda r, m: r["bound"])


def plot_kind(kind, rows, out_dir, prefix):
    """All plots of one kind's rows; prefix "" for a file of one kind, "<kind>_" otherwise
    (names that already start with it are not prefixed twice)."""
    def pre(name):
        return name if prefix and name.startswith(prefix) else prefix + name

    precisions = ordered(r["precision"] for r in rows)
    if kind == "delta":
        for precision in precisions:
            prow = [r for r in rows if r["precision"] == precision]
            delta_error_vs_length(prow, precision, out_dir, "delta_")
            heatmap(prow, precision, out_dir, "output_error", "log10 max ‖O − O_ref‖_F / ‖O_ref‖_F",
                    "largest output error over lengths and seeds", name="delta_heatmap")
        return
    if kind == "scan":
        for precision in precisions:
            prow = [r for r in rows if r["precision"] == precision]
            scan_error_vs_length(prow, precision, out_dir)
            heatmap(prow, precision, out_dir, "forward_error", "log10 max ‖H − H_ref‖_F / ‖H_ref‖_F",
                    "largest scan forward error over lengths and seeds", name=pre("heatmap"))
        return
    if kind == "wy":
        for precision in precisions:
            prow = [r for r in rows if r["precision"] == precision]
            heatmap(prow, precision, out_dir, "representation_error", "log10 max representation error",
                    "largest representation error over sizes and seeds", name=pre("heatmap"))
            hrows = [r for r in prow if math.isfinite(r["orthogonality_loss"])]
            if hrows:
                heatmap(hrows, precision, out_dir, "orthogonality_loss", "log10 max ‖QᵀQ − I‖_F",
                        "largest orthogonality loss (householder/, reflectors)", name=pre("orthogonality"))
            wy_error_vs_chunk(prow, precision, out_dir, "")  # its name starts with "wy_" already
        return
    for precision in precisions:
        prow = [r for r in rows if r["precision"] == precision]
        error_vs_n(prow, precision, out_dir, name=pre("error_vs_n"))
        error_vs_n(prow, precision, out_dir, metric="right_residual", bounds=False,
                   ylabel="‖LX − I‖∞ / (‖L‖∞ ‖X‖∞)", title="Right residual vs n", name=pre("residual_vs_n"))
        heatmap(prow, precision, out_dir, name=pre("heatmap"))
    # Same formats under several rounding modes: one comparison figure per format set.
    by_formats = defaultdict(list)
    for r in rows:
        by_formats[(r["format"], r["accumulate"], r["storage"], r["output"])].append(r)
    for (fmt, acc, st, out), frows in by_formats.items():
        if len({r["rounding"] for r in frows}) > 1:
            name = fmt if acc == st == out == fmt else f"{fmt}-{acc}acc-{st}st-{out}out"
            rounding_comparison(frows, name, out_dir, pre("rounding"))


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = read_rows(argv[1])
    os.makedirs(argv[2], exist_ok=True)
    kinds = ordered(r["kind"] for r in rows) or ["inversion"]
    for kind in kinds:
        plot_kind(kind, [r for r in rows if r["kind"] == kind], argv[2], f"{kind}_" if len(kinds) > 1 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
