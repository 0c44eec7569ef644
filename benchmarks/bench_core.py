"""Print timing figures for the core path: spec load, plan build, image rendering, a full run.

Usage: python benchmarks/bench_core.py [--repeat N]
Everything runs in process or on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable


def _time_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from harness import build_plan, load_profile
    from harness.rules.size import size_segments
    from harness.reference import render_image

    profile = load_profile("worldrouter")
    rows = [
        ("load_profile(worldrouter)", lambda: load_profile("worldrouter")),
        ("size_segments cache miss (multiple_of region)", lambda: (size_segments.cache_clear(), build_plan(profile))),
        ("build_plan(worldrouter), warm", lambda: build_plan(profile)),
    ]
    for fmt in ("png", "jpeg", "webp"):
        rows.append((f"render 3840x2160 {fmt}", lambda fmt=fmt: render_image(3840, 2160, fmt)))
    print(f"{'what':<48} {'median ms':>10} {'max ms':>10}")
    for name, fn in rows:
        median, worst = _time_ms(fn, args.repeat)
        print(f"{name:<48} {median:>10.1f} {worst:>10.1f}")
    from harness._resources import builtin_profiles

    print(f"{'profile':<14} {'load ms':>8} {'plan ms':>8} {'cases':>6} {'billable':>9} {'images':>7}")
    for name in builtin_profiles():
        load_ms, _ = _time_ms(lambda name=name: load_profile(name), args.repeat)
        loaded = load_profile(name)
        plan_ms, _ = _time_ms(lambda loaded=loaded: build_plan(loaded), args.repeat)
        plan = build_plan(loaded)
        print(f"{name:<14} {load_ms:>8.1f} {plan_ms:>8.1f} {len(plan):>6} {sum(c.billable for c in plan):>9} "
              f"{sum(c.images for c in plan):>7}")

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--profile", "worldrouter",
                               "--report-dir", out], capture_output=True, text=True)
        print(f"conformance run --profile worldrouter (reference router): {time.perf_counter() - start:.2f} s wall, exit {proc.returncode}")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--report-dir", out],
                              capture_output=True, text=True)
        print(f"conformance run, all six profiles (reference router): {time.perf_counter() - start:.2f} s wall, exit {proc.returncode}")


if __name__ == "__main__":
    main()
