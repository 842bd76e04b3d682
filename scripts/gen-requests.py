#!/usr/bin/env python3
"""Writes a reproducible mixed request CSV for `taper batch` benchmarks.

Seeded: the same --rows and --seed always give the same file. Covers all
seven built-in profiles, every strategy each profile supports, and doses
across each profile's usual range, with a few options varied per row.
"""
import argparse
import csv
import random
import sys

# profile: (dose range in mg as (low, high, grain), strategies that apply)
PROFILES = {
    "baclofen": ((5, 80, 5), ["linear", "percent", "custom"]),
    "tizanidine": ((2, 36, 2), ["linear", "percent"]),
    "diazepam": ((2, 40, 1), ["percent", "linear"]),
    "prednisone": ((5, 60, 5), ["linear", "custom", "percent"]),
    "sertraline": ((25, 200, 25), ["percent", "hyperbolic"]),
    "oxycodone": ((10, 120, 5), ["percent", "linear"]),
    "gabapentin": ((300, 3600, 100), ["percent", "linear"]),
}


def custom_schedule(dose, rng):
    steps = []
    current = dose
    while current > 0 and len(steps) < 6:
        current = max(0, current - max(1, round(current * rng.choice([0.2, 0.25, 0.5]))))
        if current == 0:
            break
        steps.append(f"{current}x{rng.choice([7, 14])}")
    return ",".join(steps) or f"{dose // 2}x7"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20261201)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["id", "profile", "dose", "start", "strategy", "step", "percent",
                "interval", "occupancy_step", "schedule", "patient"])
    names = sorted(PROFILES)
    for i in range(args.rows):
        name = names[i % len(names)]
        (low, high, grain), strategies = PROFILES[name]
        dose = rng.randrange(low, high + 1, grain)
        strategy = strategies[rng.randrange(len(strategies))]
        step = percent = interval = occ = schedule = ""
        if strategy == "linear":
            step = str(max(grain, (dose // 8) // grain * grain) if name != "diazepam" else 1)
            interval = str(rng.choice([7, 14]))
        elif strategy == "percent":
            percent = str(rng.choice([10, 20, 25]))
            interval = str(rng.choice([7, 14, 28]))
        elif strategy == "hyperbolic":
            occ = str(rng.choice([5, 10]))
            interval = str(rng.choice([14, 28]))
        else:
            schedule = custom_schedule(dose, rng)
        start = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        w.writerow([f"p{i:07d}", name, f"{dose}mg", start, strategy, step, percent,
                    interval, occ, schedule, f"Patient {i}"])


if __name__ == "__main__":
    main()
