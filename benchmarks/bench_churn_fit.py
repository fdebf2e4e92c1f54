"""``python -m benchmarks.bench_churn_fit``: time and memory of the BG/NBD + Gamma-Gamma fit.

Customers are drawn from the models themselves (CDNOW's published parameters, in
days: r=0.243, alpha=30.9, a=0.793, b=2.426; spend p=6.25, q=3.74, gamma=15.44), ages
spread over 18 months.  Two kinds of input: times in whole days, as a real log gives
(many customers share the same ``(x, t_x, T)``, which the fit evaluates once), and
continuous times (no two rows alike: the worst case).  Each run is a fresh process;
the table shows the median of ``--repeat`` runs of: BG/NBD fit, Gamma-Gamma fit,
scoring (``p_alive`` and a 12-step, 12-month expected CLV for every customer), and the
process's peak memory (simulation included).  Targets (issue #9, for the whole churn
step of training): 25,000 customers under 10 s, 1,000,000 under 60 s.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .common import load, median, print_table, run_module

TARGETS_S = {25_000: 10.0, 1_000_000: 60.0}
BG = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def worker(n: int, times: str, seed: int) -> dict[str, float]:
    """Simulate ``n`` customers, fit both models and score everyone; return the seconds of each step."""
    from pipeline.churn import BetaGeoModel, GammaGammaModel, expected_clv, simulate_bgnbd, simulate_gamma_gamma

    rng = np.random.default_rng(seed)
    ages = rng.integers(1, 548, n).astype(float) if times == "days" else rng.uniform(0.5, 547.0, n)
    sim = simulate_bgnbd(n, BG, ages, random_state=seed)
    if times == "days":  # a log in whole days: the last purchase day after the first, at least one day later
        sim["recency"] = np.where(sim["frequency"] > 0, np.clip(np.ceil(sim["recency"]), 1.0, sim["T"]), 0.0)
    spend = simulate_gamma_gamma(sim["frequency"], GG, random_state=seed)
    x, tx, age = sim["frequency"].to_numpy(), sim["recency"].to_numpy(), sim["T"].to_numpy()
    out: dict[str, float] = {}
    start = time.perf_counter()
    bg = BetaGeoModel().fit(x, tx, age)
    out["bgnbd_s"] = time.perf_counter() - start
    out["distinct"] = bg.n_distinct_
    start = time.perf_counter()
    gg = GammaGammaModel().fit(x, spend)
    out["gg_s"] = time.perf_counter() - start
    start = time.perf_counter()
    bg.p_alive(x, tx, age)
    expected_clv(bg, gg, x, tx, age, spend, horizon=365.25, periods_per_year=365.25, annual_discount_rate=0.1)
    out["score_s"] = time.perf_counter() - start
    out["max_rel_err"] = max(abs(bg.params_[k] / v - 1) for k, v in BG.items())
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one measured fit) and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sizes", type=int, nargs="+", default=[25_000, 1_000_000])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=25_000, help=argparse.SUPPRESS)
    p.add_argument("--times", choices=("days", "continuous"), default="days", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.n, args.times, args.seed)))
        return
    print(f"bench_churn_fit: {load()}")
    rows = []
    for n in args.sizes:
        for times in ("days", "continuous"):
            runs, peaks, walls = [], [], []
            for i in range(args.repeat):
                wall, peak, out = run_module(
                    "benchmarks.bench_churn_fit", ["--worker", "--n", str(n), "--times", times, "--seed", str(i)]
                )
                runs.append(json.loads(out))
                peaks.append(peak)
                walls.append(wall)
            fit = [r["bgnbd_s"] + r["gg_s"] for r in runs]
            total = [r["bgnbd_s"] + r["gg_s"] + r["score_s"] for r in runs]
            target = TARGETS_S.get(n)
            rows.append(
                [
                    f"{times} times",
                    f"{n:,}",
                    f"{median([r['distinct'] for r in runs]):,.0f}",
                    f"{median([r['bgnbd_s'] for r in runs]):.2f}",
                    f"{median([r['gg_s'] for r in runs]):.2f}",
                    f"{median([r['score_s'] for r in runs]):.2f}",
                    f"{median(fit):.2f}",
                    f"{median(walls):.1f}",
                    f"{max(peaks):.0f}",
                    f"{100 * median([r['max_rel_err'] for r in runs]):.1f}",
                    f"< {target:.0f} s" if target else "-",
                    ("pass" if median(total) < target else "FAIL") if target else "-",
                ]
            )
    print_table(
        f"BG/NBD + Gamma-Gamma on simulated customers, median of {args.repeat} fresh processes",
        [
            "input",
            "customers",
            "distinct rows",
            "BG/NBD fit s",
            "Gamma-Gamma fit s",
            "score s",
            "fit s",
            "process s",
            "peak MB",
            "max param err %",
            "target (fit+score)",
            "result",
        ],
        rows,
    )
    print("process s: the whole fresh process (imports, simulation, fit, scoring); peak MB: its peak RSS.")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
