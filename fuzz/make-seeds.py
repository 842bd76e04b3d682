#!/usr/bin/env python3
"""Writes the fuzz seed corpus (fuzz/corpus/<target>/) from the test fixtures.

Run from anywhere: `python3 fuzz/make-seeds.py`. It rewrites every seed
from scratch, so the corpus always matches the fixtures it came from:

- parsers: the literals of src/dose.rs's unit tests, and every value given
  to --dose/--step/--percent/--interval/--target/--schedule/--times/--start/
  --occupancy-step in tests/*.rs.
- plan_request: every `taper plan` argument list in tests/*.rs (as
  `key=value` lines), the snapshot requests (tests/snapshots/*.snap names)
  and one default request per built-in profile.
- profile_plan: profiles/*.toml, and the adversarial profiles of
  tests/adversarial.rs with each option set its tests plan them with (as
  `#!key=value` comment lines).
- batch_csv: every request CSV in tests/batch.rs and 20 rows of
  scripts/gen-requests.py, each behind a flag byte (see
  fuzz/fuzz_targets/batch_csv.rs).
- api_request: the plan_request seeds as `POST /api/plan` JSON bodies (the
  batch columns only), each behind a flag byte that cycles through the
  formats, views and Accept headers (see fuzz/fuzz_targets/api_request.rs).

File names are the first 16 hex digits of the seed's SHA-256.
"""
import hashlib
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

FLAG_KEYS = {
    "--dose": "dose",
    "--start": "start",
    "--strategy": "strategy",
    "--step": "step",
    "--percent": "percent",
    "--occupancy-step": "occupancy_step",
    "--schedule": "schedule",
    "--interval": "interval",
    "--target": "target",
    "--doses-per-day": "doses_per_day",
    "--strengths": "strengths",
    "--form": "form",
    "--patient": "patient",
    "--times": "times",
    "--final-hold": "final_hold",
    "--market": "market",
    "--switch-to": "switch_to",
    "--switch-interval": "switch_interval",
    "--supply": "supply",
}
BUILTINS = sorted(p.stem for p in (ROOT / "profiles").glob("*.toml"))


def rust_string(body):
    """The value of a Rust "..." literal body (escapes, line continuations)."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == "\n":  # continuation: skip the newline and leading blanks
            i += 2
            while i < len(body) and body[i] in " \t":
                i += 1
            continue
        if n == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3 : end], 16)))
            i = end + 1
            continue
        out.append({"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(n, n))
        i += 2
    return "".join(out)


STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)


def literals(text):
    return [rust_string(m.group(1)) for m in STRING.finditer(text)]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)


def tests_text():
    return {p.name: p.read_text() for p in sorted((ROOT / "tests").glob("*.rs"))}


def parser_seeds(tests):
    dose_rs = (ROOT / "src" / "dose.rs").read_text()
    unit_tests = dose_rs[dose_rs.index("mod tests") :]
    seeds = set(literals(unit_tests))
    for text in tests.values():
        lits = literals(text)
        for flag, value in zip(lits, lits[1:]):
            if flag in FLAG_KEYS and flag not in ("--patient", "--strategy", "--form"):
                seeds.add(value)
    for s in seeds:
        if len(s) < 200:
            write("parsers", s)


ARRAY = re.compile(r'\[((?:\s*"(?:[^"\\]|\\.)*"\s*,?)+)\s*\]', re.S)


def request_seeds(tests):
    seen = set()
    for text in tests.values():
        for m in ARRAY.finditer(text):
            lits = literals(m.group(1))
            lines = []
            profile = next((x for x in lits if x in BUILTINS), None)
            if profile:
                lines.append(f"profile={profile}")
            for flag, value in zip(lits, lits[1:]):
                if flag in FLAG_KEYS:
                    lines.append(f"{FLAG_KEYS[flag]}={value}")
            if not any(l.startswith(("dose=", "times=", "schedule=")) for l in lines):
                continue
            if not any(l.startswith("dose=") for l in lines):
                lines = ["profile=baclofen", "dose=60mg", "start=2026-12-01"] + lines
            seed = "\n".join(lines) + "\n"
            if seed not in seen:
                seen.add(seed)
                write("plan_request", seed)
    for snap in (ROOT / "tests" / "snapshots").glob("*default_plan_*.snap"):
        m = re.search(r"default_plan_([a-z]+)_(\w+)\.snap", snap.name)
        if m:
            write("plan_request", f"profile={m.group(1)}\ndose={m.group(2)}\nstart=2026-12-01\n")
    for name in BUILTINS:
        write("plan_request", f"profile={name}\ndose=10mg\n")


def profile_seeds(tests):
    for p in sorted((ROOT / "profiles").glob("*.toml")):
        write("profile_plan", p.read_text())
    adv = tests.get("adversarial.rs", "")
    header = rust_string(re.search(r'const HEADER: &str =\s*"((?:[^"\\]|\\.)*)"', adv).group(1))
    source = rust_string(re.search(r'const SOURCE: &str = "((?:[^"\\]|\\.)*)"', adv).group(1))
    profiles = {}
    for m in re.finditer(
        r'fn (\w+)\(\) -> String \{\s*toml\(\s*"(\w+)",\s*(\d+),\s*r#"(.*?)"#', adv, re.S
    ):
        fn, name, dpd, body = m.groups()
        profiles[fn] = (
            f'name = "{name}"\ndisplay_name = "{name}"\ndoses_per_day = {dpd}\n'
            f"{header}{body}{source}"
        )
    for fn, text in profiles.items():
        write("profile_plan", text)
    # The option sets each adversarial profile is planned with.
    for m in re.finditer(r"check_all\(\s*&(\w+)\(\),\s*&\[(.*?)\n\s*\],?\s*\)", adv, re.S):
        fn, cases = m.groups()
        if fn not in profiles:
            continue
        for case in re.finditer(r'\("([^"]*)",\s*vec!\[(.*?)\]\)', cases, re.S):
            dose, pairs = case.groups()
            lines = [f"#!dose={dose}", "#!start=2027-01-04"]
            for k, v in re.findall(r'\("([^"]*)",\s*"([^"]*)"\)', pairs):
                lines.append(f"#!{k.replace('-', '_')}={v}")
            write("profile_plan", "\n".join(lines) + "\n" + profiles[fn])


def batch_seeds(tests):
    csvs = [s for s in literals(tests.get("batch.rs", "")) if s.startswith("id,")]
    gen = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-requests.py"), "--rows", "20", "--seed", "1"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    csvs.append(gen)
    for i, text in enumerate(csvs):
        # CSV days, CSV summary, jsonl; one strict run of the first inputs.
        for flags in (0, 2, 1) + ((4, 8 | 16, 32, 64) if i < 3 else ()):
            write("batch_csv", bytes([flags]) + text.encode())


def dictionaries():
    """libFuzzer dictionaries: the option keys and values the request
    targets read, and every key and table name of the built-in profiles."""
    d = ROOT / "fuzz" / "dict"
    d.mkdir(exist_ok=True)
    words = set(FLAG_KEYS.values()) | {"profile"}
    req = {f"{w}=" for w in words} | set(BUILTINS)
    req |= {"mg", "mcg", "mL", "linear", "percent", "hyperbolic", "custom", "tablet",
            "capsule", "liquid", "x", "w", "d", "%", ",", "\n"}
    toml = set()
    for p in (ROOT / "profiles").glob("*.toml"):
        for line in p.read_text().splitlines():
            m = re.match(r"\s*(\[\[?[a-z_.]+\]\]?)\s*$", line)
            if m:
                toml.add(m.group(1))
            m = re.match(r"\s*([a-z_]+)\s*=", line)
            if m:
                toml.add(m.group(1) + " = ")
    toml |= {f"#!{w}=" for w in words}
    toml |= {'"halves"', '"quarters"', '"tablet"', '"capsule"', '"liquid"', "\n", '"'}

    def esc(w):
        return w.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\x0A")

    for name, ws in (("plan_request", req), ("profile_plan", toml)):
        (d / f"{name}.dict").write_text("".join(f'"{esc(w)}"\n' for w in sorted(ws)))


# The members `POST /api/plan` takes (the batch columns).
API_MEMBERS = {
    "id", "profile", "dose", "start", "strategy", "step", "percent", "interval",
    "target", "doses_per_day", "strengths", "form", "schedule", "occupancy_step",
    "patient", "plan_id", "final_hold", "market", "switch_to", "switch_interval",
    "supply",
}


def api_seeds():
    import json

    for i, f in enumerate(sorted((CORPUS / "plan_request").iterdir())):
        fields = {}
        for line in f.read_text().splitlines():
            key, _, value = line.partition("=")
            if key in API_MEMBERS:
                fields[key] = value
        if "profile" in fields and "dose" in fields:
            flag = bytes([(i * 37) % 256])
            write("api_request", flag + json.dumps(fields).encode())


def main():
    dictionaries()
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    tests = tests_text()
    parser_seeds(tests)
    request_seeds(tests)
    profile_seeds(tests)
    batch_seeds(tests)
    api_seeds()
    for d in sorted(CORPUS.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
