"""Write git-workbench import manifests from wherever a stage runs.

``git workbench import manifest FILE|DIR`` records runs that another orchestrator ran,
from the JSON manifest described in docs/import.md
(schema ``workbench/import-manifest/v1``). This module writes that manifest. It uses
the standard library only (Python 3.8+): copy it next to your pipeline code.

A plain script (or a CI step): wrap the command, name what it read and wrote::

    python workbench_manifest.py --stage train --out ci-runs \\
        --input data/train.csv --output results/model.bin --store results/metrics.json \\
        --metrics results/metrics.json -- python train.py --lr 0.1

then, in a clone of the repository (the artifacts copied into ``ci-runs/``)::

    git workbench import manifest ci-runs

From Python, around any piece of work::

    from workbench_manifest import Run

    with Run("train", orchestrator="script", run_id="nightly-42",
             params={"lr": 0.1}) as run:
        train()                                   # your code
        run.input("data/train.csv")
        run.output("results/model.bin")           # digest only
        run.output("results/metrics.json", store=True)   # bytes go into the record
        run.metrics.update(score=0.91)
    run.write("ci-runs")                          # ci-runs/script-nightly-42.workbench.json

A Dagster asset (``dagster`` is not needed by this module)::

    import dagster as dg
    from workbench_manifest import Run

    @dg.asset
    def model(context: dg.AssetExecutionContext) -> None:
        with Run("train", orchestrator="dagster", run_id=context.run_id,
                 job=context.asset_key.to_user_string(),
                 params={"lr": 0.1}) as run:
            fit_and_save("results/model.bin")
            run.output("results/model.bin")
            run.metrics["score"] = evaluate()
        run.write("workbench-manifests")

A Prefect flow::

    from prefect import flow, runtime
    from workbench_manifest import Run

    @flow
    def train(lr: float = 0.1) -> None:
        with Run("train", orchestrator="prefect", run_id=str(runtime.flow_run.id),
                 job=runtime.flow_run.name, url=runtime.flow_run.ui_url,
                 params={"lr": lr}) as run:
            fit_and_save("results/model.bin")
            run.output("results/model.bin")
        run.write("workbench-manifests")

On GitHub Actions or GitLab CI, ``Run.from_environment(stage)`` fills the orchestrator,
its run id and the job's URL from the runner's environment.

Paths are repository paths (relative to the repository root: ``repo_root``, by
default the enclosing git work tree, else the current directory). A run that raises
is recorded with exit code 1 and the exception re-raised. Metrics that are not finite
numbers (NaN, Infinity) are written as strings, as ``git workbench run`` records them.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time

SCHEMA = "workbench/import-manifest/v1"
SUFFIX = ".workbench.json"


def sha256_file(path):
    """The sha256 (hex) and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _git(root, *args):
    try:
        out = subprocess.run(
            ["git", "-C", root] + list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.decode("utf-8", "replace").strip()


def _finite(value):
    """Metric values JSON can hold: non-finite floats become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _utc(ts):
    t = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class Run:
    """One run of a stage, described as it happens; ``write`` saves its manifest."""

    def __init__(self, stage, orchestrator, run_id, job=None, url=None, host=None,
                 params=None, command=None, repo_root=None):
        self.stage = stage
        self.origin = {"orchestrator": orchestrator, "run_id": str(run_id)}
        for key, value in (("job", job), ("host", host or socket.gethostname()), ("url", url)):
            if value:
                self.origin[key] = str(value)
        self.params = dict(params or {})
        self.metrics = {}
        self.command = command
        root = repo_root or _git(os.getcwd(), "rev-parse", "--show-toplevel") or os.getcwd()
        self.repo_root = os.path.realpath(root)
        self.inputs, self.outputs, self.code_files = {}, {}, {}
        self._stored = {}
        self.exit_code = 0
        self.started = None
        self.duration = 0.0

    @classmethod
    def from_environment(cls, stage, **kwargs):
        """A run whose origin is the CI job this process runs in (GitHub Actions,
        GitLab CI), else a plain script with a time-based id."""
        env = os.environ
        if env.get("GITHUB_ACTIONS") == "true":
            run = "%s-%s" % (env["GITHUB_RUN_ID"], env.get("GITHUB_RUN_ATTEMPT", "1"))
            url = "%s/%s/actions/runs/%s" % (
                env.get("GITHUB_SERVER_URL", "https://github.com"),
                env.get("GITHUB_REPOSITORY", ""), env["GITHUB_RUN_ID"])
            kwargs.setdefault("job", env.get("GITHUB_JOB"))
            return cls(stage, "github-actions", run, url=url, **kwargs)
        if env.get("GITLAB_CI") == "true":
            kwargs.setdefault("job", env.get("CI_JOB_NAME"))
            return cls(stage, "gitlab-ci", env["CI_JOB_ID"], url=env.get("CI_JOB_URL"), **kwargs)
        return cls(stage, "script", "%s-%d" % (socket.gethostname(), time.time_ns()), **kwargs)

    # --- what the run read and wrote -------------------------------------------

    def _rel(self, path):
        full = os.path.realpath(os.path.join(self.repo_root, path))
        rel = os.path.relpath(full, self.repo_root)
        if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
            raise ValueError("%s is outside the repository %s" % (path, self.repo_root))
        return rel.replace(os.sep, "/"), full

    def _entry(self, table, path):
        rel, full = self._rel(path)
        digest, size = sha256_file(full)
        table[rel] = {"sha256": digest, "size": size}
        return rel, full

    def input(self, path):
        """A file the run read."""
        self._entry(self.inputs, path)

    def code_file(self, path):
        """A code file the stage depends on."""
        self._entry(self.code_files, path)

    def output(self, path, store=False):
        """A file the run wrote; with ``store``, its bytes go into the record (for
        small files: the stage's max_stored_size, 10 MiB by default)."""
        rel, full = self._entry(self.outputs, path)
        if store:
            self._stored[rel] = full

    # --- timing -------------------------------------------------------------------

    def start(self):
        self.started = time.time()
        self._t0 = time.monotonic()
        return self

    def finish(self, exit_code=0):
        self.exit_code = int(exit_code)
        self.duration = round(time.monotonic() - self._t0, 3)

    def __enter__(self):
        return self.start()

    def __exit__(self, kind, value, tb):
        self.finish(0 if kind is None else 1)
        return False

    # --- the manifest -------------------------------------------------------------

    def manifest(self):
        """The manifest as a dict (docs/import.md)."""
        if self.started is None:
            raise RuntimeError("the run was never started (use `with Run(...)` or start())")
        m = {
            "schema": SCHEMA,
            "stage": self.stage,
            "origin": self.origin,
            "started_at": _utc(self.started),
            "duration_seconds": self.duration,
            "exit_code": self.exit_code,
            "params": _finite(self.params),
            "metrics": _finite(self.metrics),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "code_files": self.code_files,
        }
        if self.command:
            m["command"] = self.command
        commit = _git(self.repo_root, "rev-parse", "--verify", "-q", "HEAD")
        if commit:
            code = {"commit": commit}
            branch = _git(self.repo_root, "symbolic-ref", "--short", "-q", "HEAD")
            if branch:
                code["branch"] = branch
            status = _git(self.repo_root, "status", "--porcelain", "--untracked-files=no")
            code["dirty"] = bool(status)
            m["code"] = code
        return m

    def name(self):
        """The manifest's file name: orchestrator and run id, made file-safe."""
        raw = "%s-%s" % (self.origin["orchestrator"], self.origin["run_id"])
        return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") + SUFFIX

    def write(self, directory, log=None):
        """Writes NAME.workbench.json into ``directory`` (and NAME.workbench.files/ with
        the stored outputs, NAME.workbench.log from ``log``, bytes or text); returns
        the manifest's path."""
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, self.name())
        stem = path[: -len(".json")]
        if self._stored:
            files = stem + ".files"
            shutil.rmtree(files, ignore_errors=True)
            for rel, full in sorted(self._stored.items()):
                dest = os.path.join(files, *rel.split("/"))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(full, dest)
        if log is not None:
            with open(stem + ".log", "wb") as f:
                f.write(log.encode("utf-8") if isinstance(log, str) else log)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.manifest(), f, indent=2, sort_keys=True, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
        return path


def main(argv=None):
    """Runs a command and writes its manifest (the plain-script mode)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", required=True)
    p.add_argument("--out", required=True, help="directory the manifest is written to")
    p.add_argument("--orchestrator", help="default: from the CI environment, else 'script'")
    p.add_argument("--run-id")
    p.add_argument("--job")
    p.add_argument("--url")
    p.add_argument("--param", action="append", default=[], metavar="KEY=JSON")
    p.add_argument("--input", action="append", default=[])
    p.add_argument("--output", action="append", default=[])
    p.add_argument("--store", action="append", default=[], help="an output stored in the record")
    p.add_argument("--metrics", help="a JSON file of metrics the command wrote")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("name the command after --")
    params = {}
    for item in a.param:
        key, _, value = item.partition("=")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    extra = {"job": a.job, "url": a.url, "params": params, "command": " ".join(command)}
    if a.orchestrator or a.run_id:
        run = Run(a.stage, a.orchestrator or "script",
                  a.run_id or "%s-%d" % (socket.gethostname(), time.time_ns()), **extra)
    else:
        run = Run.from_environment(a.stage, **extra)
    run.start()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sys.stdout.buffer.write(proc.stdout)
    run.finish(proc.returncode)
    for f in a.input:
        run.input(f)
    for f in a.output + a.store:
        if os.path.exists(os.path.join(run.repo_root, f)):
            run.output(f, store=f in a.store)
    if a.metrics and os.path.exists(os.path.join(run.repo_root, a.metrics)):
        with open(os.path.join(run.repo_root, a.metrics), encoding="utf-8") as f:
            run.metrics.update(json.load(f))
    print(run.write(a.out, log=proc.stdout), file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
