#!/usr/bin/env python3
"""Writes RUNS run records over STAGES stages and COMMITS code commits into a repository
prepared by bench/make_large_repo.sh, in the real record format, through one
`git fast-import` stream per pass (about 100,000 records a minute on 2 cores; the real
`git workbench run` would take hours).

Usage: make_large_repo.py DIR RUNS

DIR already holds:
  - the project (workbench.toml with stages stage1..stageN, each writing
    runs/{run_id}/metrics.json) and its code commits on `main`;
  - one real run of every stage, made by `git workbench run` at the first code commit:
    the template this script copies.

Each generated record is the template's, with what differs from run to run replaced:
the run id (and every path holding it), the start time and duration, the metrics (and
so the metrics file, its blob and its sha256), and the code commit the run executed at
(`code_ref`, and the `snapshot` tree: that commit's tree). The manifest is rewritten
with the same serializer settings as serde_json's pretty printer, checked by a round
trip of the template. Record commits carry the real message and trailers; the notes
index gets the real `executed` event line of every run, on its code commit.
"""
import hashlib
import json
import os
import random
import subprocess
import sys

SECOND = 1000


def git(*args, cwd, input=None):
    return subprocess.run(["git", *args], cwd=cwd, input=input, check=True,
                          capture_output=True).stdout


def compact(ms):
    """`RunId`'s time part: YYYYMMDDTHHMMSSZ."""
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y%m%dT%H%M%SZ")


def iso(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def run_id(ms, rnd):
    return f"{compact(ms)}-{((ms % 1000) << 6) | (rnd & 0x3f):04x}"


def pretty(obj):
    # RunManifest::to_json: serde_json pretty (two spaces, ": ") and a newline.
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def data(stream, payload):
    stream.append(b"data %d\n" % len(payload))
    stream.append(payload)
    stream.append(b"\n")


def main():
    repo, runs = sys.argv[1], int(sys.argv[2])
    refs = git("for-each-ref", "--format=%(refname)", "refs/workbench/runs/", cwd=repo)
    templates = {}
    for name in refs.decode().split():
        stage = name.split("/")[3]
        manifest_bytes = git("show", f"{name}:manifest.json", cwd=repo)
        manifest = json.loads(manifest_bytes)
        assert pretty(manifest).encode() == manifest_bytes, "manifest does not round-trip"
        log = git("show", f"{name}:log.txt", cwd=repo)
        templates[stage] = (manifest, log)
    stages = sorted(templates, key=lambda s: int(s.removeprefix("stage")))
    commits = git("rev-list", "--reverse", "main", cwd=repo).decode().split()
    trees = {c: git("rev-parse", f"{c}^{{tree}}", cwd=repo).decode().strip() for c in commits}
    ident = b"Bench <bench@example.com>"
    rng = random.Random(15)
    # Runs start at 2026-01-01T00:00:00Z, 2 s apart, before any real run.
    base = 1767225600 * SECOND
    per_commit = -(-runs // len(commits))
    stream = []
    planned = []  # (mark, stage, run id, code commit, time)
    for i in range(runs):
        commit = commits[min(i // per_commit, len(commits) - 1)]
        stage = stages[i % len(stages)]
        manifest, log = templates[stage]
        ms = base + 2 * SECOND * i + rng.randrange(1000)
        rid = run_id(ms, rng.randrange(64))
        old = manifest["run_id"]
        m = json.loads(json.dumps(manifest).replace(old, rid))
        loss = round(0.1 + 0.9 * rng.random(), 4)
        acc = round(0.1 + 0.9 * rng.random(), 4)
        metrics_file = f'{{"loss": {loss}, "acc": {acc}}}\n'.encode()
        out_path = f"{m['run_dir']}/metrics.json"
        m["outputs"][out_path] = "sha256:" + hashlib.sha256(metrics_file).hexdigest()
        m["metrics"] = {k: {"loss": loss, "acc": acc}[k] for k in m["metrics"]}
        m["started_at"] = iso(ms)
        m["duration_seconds"] = round(0.001 * (1 + rng.randrange(900)), 3)
        m["code_ref"]["commit"] = commit
        m["code_ref"]["tree"] = trees[commit]
        m["code_ref"]["dirty"] = False
        mark = i + 1
        summary = f"command: {m['command']}\nexit code: {m['exit_code']}"
        message = (f"workbench: executed {stage} {rid}\n\n{summary}\n\n"
                   f"Workbench-Event: executed\nWorkbench-Stage: {stage}\nWorkbench-Run: {rid}\n")
        when = b"%d +0000" % (ms // SECOND)
        stream.append(f"commit refs/workbench/runs/{stage}/{rid}\nmark :{mark}\n".encode())
        stream.append(b"author " + ident + b" " + when + b"\n")
        stream.append(b"committer " + ident + b" " + when + b"\n")
        data(stream, message.encode())
        stream.append(b"M 100644 inline manifest.json\n")
        data(stream, pretty(m).encode())
        stream.append(b"M 100644 inline log.txt\n")
        data(stream, log)
        stream.append(f"M 100644 inline outputs/{out_path}\n".encode())
        data(stream, metrics_file)
        stream.append(f"M 040000 {trees[commit]} snapshot\n\n".encode())
        planned.append((mark, stage, rid, commit, ms + int(m["duration_seconds"] * 1000)))
    marks = os.path.join(repo, ".git", "bench-marks")
    subprocess.run(["git", "fast-import", "--quiet", f"--export-marks={marks}"],
                   cwd=repo, input=b"".join(stream), check=True)
    record = {}
    with open(marks) as f:
        for line in f:
            mark, sha = line.split()
            record[int(mark[1:])] = sha
    os.remove(marks)
    # The notes index: every run's `executed` line on its code commit, after the lines
    # the template runs already wrote there.
    lines = {}
    for c in commits:
        try:
            lines[c] = git("notes", "--ref=workbench", "show", c, cwd=repo).decode().splitlines()
        except subprocess.CalledProcessError:
            lines[c] = []
    for mark, stage, rid, commit, ms in planned:
        lines[commit].append(json.dumps({
            "at": iso(ms), "event": "executed", "exit_code": 0, "record": record[mark],
            "ref": f"refs/workbench/runs/{stage}/{rid}", "run_id": rid,
            "schema": "workbench/event/v1", "stage": stage,
        }, sort_keys=True, separators=(",", ":")))
    parent = git("rev-parse", "refs/notes/workbench", cwd=repo).decode().strip()
    notes = [b"commit refs/notes/workbench\n",
             b"committer " + ident + b" %d +0000\n" % (base // SECOND)]
    data(notes, b"workbench: generated index")
    notes.append(f"from {parent}\n".encode())
    for c, ls in lines.items():
        if ls:
            notes.append(f"N inline {c}\n".encode())
            data(notes, ("\n".join(ls) + "\n").encode())
    notes.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=repo,
                   input=b"".join(notes), check=True)


if __name__ == "__main__":
    main()
