"""Test data for the run & artifact explorer, written with one MLflow version's own client.

Run it with the python of the venv whose server it fills (scripts/test-env/venvs.sh builds them):

  python explorer-data.py store --backend sqlite|file --out DIR [--runs 10000]
      The "ten-thousand" experiment, written straight into a backend store BEFORE a server
      starts (10k runs over HTTP take minutes; through the store's own code, seconds). SQLite
      goes to DIR/mlflow.db, a FileStore to DIR/mlruns. Prints a JSON summary.
  python explorer-data.py large --out FILE [--mib 64]
      A large, random-looking binary (deterministic, so it can be cached and compared).
  python explorer-data.py seed --url URL --large FILE --manifest FILE
      Over HTTP against a running server: the "showcase" experiment (params, tags, 200-step
      metric histories with one NaN, every status, images, text, code, JSON, a notebook, nested
      folders, a model, the large binary) and the "hostile" corpus. Writes a JSON manifest of
      what was created, and for every hostile string what the server accepted and rejected with
      its own answer.

The hostile corpus goes through raw REST calls rather than the Python client: the client checks
some names itself before sending, and the point is to record the server's answer.
"""

import argparse
import hashlib
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
import urllib.parse
import zlib

import requests

logging.disable(logging.WARNING)

TIMEOUT_S = 60
SHOWCASE_RUNS = 12
STEPS = 200

# ---------------------------------------------------------------------------------------------
# The hostile corpus: (id, what it tries, the string). Payloads that could execute set a marker
# the e2e test looks for in every frame: window.__sdPwned, an alert() dialog, a request to
# /pwned.

MARK = "window.__sdPwned=1"


def hostile_corpus():
    long_a = "A" * 10_000
    long_mixed = ("<b>x</b>\u202e" * 1250)[:10_000]
    corpus = [
        ("script-tag", "script tag", f"<script>{MARK}</script>"),
        ("script-src", "external script", "<script src=/pwned></script>"),
        ("img-onerror", "img onerror", f"<img src=x onerror={MARK}>"),
        ("img-onerror-quoted", "img onerror quoted", f"<img src=\"x\" onerror=\"{MARK}\">"),
        ("svg-onload", "attribute break-out + svg onload", f"\"'><svg onload={MARK}>"),
        ("svg-script", "svg with script", f"<svg><script>{MARK}</script></svg>"),
        ("iframe-js", "iframe javascript: src", f"<iframe src=\"javascript:{MARK}\"></iframe>"),
        ("iframe-srcdoc", "iframe srcdoc", f"<iframe srcdoc=\"<script>parent.{MARK}</script>\">"),
        ("a-href-js", "anchor javascript: href", f"<a href=\"javascript:{MARK}\">click</a>"),
        ("js-url", "javascript: URL", f"javascript:{MARK}"),
        ("js-url-alert", "javascript: alert", "javascript:alert(1)"),
        ("js-url-fetch", "javascript: fetch", "javascript:fetch('/pwned')"),
        ("data-url", "data: URL with HTML", f"data:text/html,<script>{MARK}</script>"),
        ("body-onload", "body onload", f"<body onload={MARK}>"),
        ("details-ontoggle", "details ontoggle", f"<details open ontoggle={MARK}>"),
        ("input-autofocus", "input onfocus autofocus", f"<input autofocus onfocus={MARK}>"),
        ("style-tag", "style tag with import", "<style>@import '/pwned';</style>"),
        ("meta-refresh", "meta refresh", "<meta http-equiv=refresh content=\"0;url=/pwned\">"),
        ("object-data", "object data", "<object data=\"/pwned\"></object>"),
        ("template-literal", "template literal", f"`${{{MARK}}}`"),
        ("dollar-brace", "template placeholder", "${alert(1)}"),
        ("mustache", "template braces", "{{constructor.constructor('alert(1)')()}}"),
        ("js-breakout", "string break-out", f"';{MARK};//"),
        ("js-breakout-dq", "double-quote break-out", f"\";{MARK};//"),
        ("close-script", "closing script tag", f"</script><script>{MARK}</script>"),
        ("html-entities", "HTML entities", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x3C;"),
        ("entity-js", "entity-encoded javascript:", "&#106;avascript:alert(1)"),
        ("html-comment", "HTML comment", "<!-- hidden --> shown"),
        ("cdata", "CDATA", "<![CDATA[<script>alert(1)</script>]]>"),
        ("bidi-rlo", "right-to-left override", "invoice\u202egnp.exe"),
        ("bidi-isolates", "bidi isolates", "a\u2066b\u2067c\u2068d\u2069e"),
        ("bidi-lre", "LRE/RLE/PDF", "x\u202ay\u202bz\u202c"),
        ("zero-width", "zero-width characters", "ze\u200bro\u200cwi\u200ddth\ufeff"),
        ("word-joiner", "word joiner and soft hyphen", "soft\u00adhy\u2060phen"),
        ("c0-controls", "C0 controls", "bell\x07back\x08tab\tesc\x1b[31mred"),
        ("del-c1", "DEL and C1 controls", "del\x7fc1\x85\x9b"),
        ("crlf", "CRLF injection", "line1\r\nSet-Cookie: pwned=1\r\n"),
        ("lf-only", "newlines", "first\nsecond\nthird"),
        ("nul", "NUL character", "before\x00after"),
        ("emoji-zwj", "emoji with ZWJ", "family \U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F3F3\ufe0f\u200d\U0001F308"),
        ("emoji-flags", "flags and skin tones", "\U0001F1E9\U0001F1EA \U0001F44B\U0001F3FD"),
        ("rtl-hebrew", "right-to-left text", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd"),
        ("rtl-arabic", "Arabic", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"),
        ("combining", "stacked combining marks", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319"),
        ("long-10k", "10,000 characters", long_a),
        ("long-10k-mixed", "10,000 characters of markup and bidi", long_mixed),
        ("dotdot", "parent path", "../../../../etc/passwd"),
        ("dotdot-nested", "parent path mid-way", "safe/../../escape"),
        ("backslash", "backslashes", "..\\..\\windows\\system32"),
        ("absolute", "absolute path", "/etc/shadow"),
        ("drive", "drive letter", "C:\\Users\\pwned"),
        ("quotes", "quotes", "it's \"quoted\" `back`"),
        ("percent", "percent-encoding", "%3Cscript%3Ealert(1)%3C%2Fscript%3E %2e%2e%2f"),
        ("percent-null", "percent-encoded NUL", "a%00b"),
        ("url-fragment", "query and fragment", "name?x=1&y=<b>#frag"),
        ("proto", "prototype keys", "__proto__"),
        ("constructor", "constructor key", "constructor"),
        ("json-breakout", "JSON break-out", "\"}],\"pwned\":true,{\"x\":\""),
        ("css-expression", "CSS injection", "</style><style>*{background:url(/pwned)}</style>"),
        ("markdown-link", "markdown link", f"[click](javascript:{MARK})"),
        ("spaces", "leading and trailing spaces", "   padded   "),
        ("empty-like", "only a zero-width space", "\u200b"),
        ("unicode-escape", "literal escapes", "\\u003cscript\\u003e \\x3c"),
        ("lone-surrogate-like", "replacement character", "\ufffd\ufffe"),
    ]
    return [{"id": i, "what": w, "value": v} for i, w, v in corpus]


# ---------------------------------------------------------------------------------------------
# store: the ten-thousand experiment.


def run_id_for(index):
    return hashlib.md5(f"ten-thousand-{index}".encode()).hexdigest()


def ten_thousand_rows(count):
    statuses = ["FINISHED", "FINISHED", "FINISHED", "FAILED", "KILLED"]
    for i in range(count):
        yield {
            "index": i,
            "run_id": run_id_for(i),
            "name": f"tt-{i:05d}",
            "status": statuses[i % len(statuses)],
            "start": 1_718_000_000_000 + i * 1000,
            "params": {"lr": str(round(0.001 * (1 + i % 10), 4)), "depth": str(2 + i % 8), "seed": str(i)},
            "metrics": {"loss": 1.0 / (1 + i % 97), "accuracy": (i % 89) / 89.0},
            "tags": {"mlflow.runName": f"tt-{i:05d}", "mlflow.user": "explorer-data", "shard": str(i % 16)},
        }


def store_sqlite(out, count):
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = os.path.join(out, "mlflow.db")
    # The server's default artifact root when it serves artifacts; the store writes it into the
    # experiment's artifact_location.
    store = SqlAlchemyStore(f"sqlite:///{db}", "mlflow-artifacts:/")
    experiment_id = store.create_experiment("ten-thousand")
    # The version's own ORM in one transaction: the per-run API commits twice per run (~20 ms),
    # the bulk insert writes all rows in a few seconds. Same tables, columns and values.
    with store.ManagedSessionMaker() as session:
        objects = []
        for row in ten_thousand_rows(count):
            rid = row["run_id"]
            objects.append(
                SqlRun(
                    run_uuid=rid,
                    name=row["name"],
                    experiment_id=int(experiment_id),
                    user_id="explorer-data",
                    status=row["status"],
                    start_time=row["start"],
                    end_time=row["start"] + 500,
                    source_type="LOCAL",
                    source_name="",
                    entry_point_name="",
                    source_version="",
                    lifecycle_stage="active",
                    artifact_uri=f"mlflow-artifacts:/{experiment_id}/{rid}/artifacts",
                )
            )
            for key, value in row["params"].items():
                objects.append(SqlParam(key=key, value=value, run_uuid=rid))
            for key, value in row["tags"].items():
                objects.append(SqlTag(key=key, value=value, run_uuid=rid))
            for key, value in row["metrics"].items():
                common = dict(key=key, value=value, timestamp=row["start"], step=0, is_nan=False, run_uuid=rid)
                objects.append(SqlMetric(**common))
                objects.append(SqlLatestMetric(**common))
        session.add_all(objects)
    return experiment_id


def store_file_batch(job):
    """Writes runs [first, last) into a FileStore of their own that holds just the experiment."""
    from mlflow.entities import Metric, Param, RunStatus, RunTag
    from mlflow.store.tracking.file_store import FileStore

    root, experiment_id, first, last = job
    store = FileStore(root, "mlflow-artifacts:/")
    store._create_experiment_with_id("ten-thousand", experiment_id, f"mlflow-artifacts:/{experiment_id}", None)
    rows = ten_thousand_rows(last)
    for row in rows:
        if row["index"] < first:
            continue
        tags = [RunTag(k, v) for k, v in row["tags"].items()]
        run = store.create_run(experiment_id, "explorer-data", row["start"], tags, row["name"])
        rid = run.info.run_id
        store.log_batch(
            rid,
            [Metric(k, v, row["start"], 0) for k, v in row["metrics"].items()],
            [Param(k, v) for k, v in row["params"].items()],
            [],
        )
        store.update_run_info(rid, RunStatus.from_string(row["status"]), row["start"] + 500, row["name"])
    return root


def store_file(out, count):
    from concurrent.futures import ProcessPoolExecutor

    from mlflow.store.tracking.file_store import FileStore

    root = os.path.join(out, "mlruns")
    store = FileStore(root, "mlflow-artifacts:/")
    experiment_id = store.create_experiment("ten-thousand")
    # A FileStore finds a run by listing every run folder of the store, so one store of 10k runs
    # takes O(n^2) (minutes). Each batch of runs is written by the store's own code into a store
    # of its own holding the same experiment id, then the run folders are moved into place.
    batch = 250
    jobs = [
        (os.path.join(out, f"batch-{first}"), experiment_id, first, min(count, first + batch))
        for first in range(0, count, batch)
    ]
    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for batch_root in pool.map(store_file_batch, jobs):
            source = os.path.join(batch_root, experiment_id)
            for name in os.listdir(source):
                if name not in ("meta.yaml", "tags"):
                    os.rename(os.path.join(source, name), os.path.join(root, experiment_id, name))
            shutil.rmtree(batch_root)
    return experiment_id


def cmd_store(args):
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    experiment_id = (store_sqlite if args.backend == "sqlite" else store_file)(args.out, args.runs)
    print(json.dumps({"experimentId": experiment_id, "runs": args.runs, "seconds": round(time.time() - started, 1)}))


# ---------------------------------------------------------------------------------------------
# large: a deterministic, random-looking binary.


def cmd_large(args):
    size = args.mib * 1024 * 1024
    tmp = f"{args.out}.partial-{os.getpid()}"
    block = hashlib.sha512(b"stack-doctor-explorer").digest()
    with open(tmp, "wb") as f:
        written = 0
        counter = 0
        while written < size:
            # 1 MiB chunks of SHA-512 output chained over a counter: incompressible, reproducible.
            chunk = bytearray()
            while len(chunk) < 1024 * 1024:
                block = hashlib.sha512(block + counter.to_bytes(8, "little")).digest()
                chunk += block
                counter += 1
            f.write(chunk[: min(len(chunk), size - written)])
            written += len(chunk)
    os.replace(tmp, args.out)
    print(json.dumps({"file": args.out, "bytes": size}))


# ---------------------------------------------------------------------------------------------
# seed: showcase and hostile over HTTP.


def png_bytes(width=96, height=64):
    """A gradient PNG written by hand (zlib + struct), so no imaging library is needed."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((x * 255 // width, y * 255 // height, 160))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Showcase analysis\n", "Loss over steps."]},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["best loss 0.0123\n"]}],
            "source": ["print('best loss', 0.0123)"],
        },
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}

TEXT_FILE = "Showcase notes\nThe explorer opens this file read-only.\nLine three: ünïcödé ✓\n"
CODE_FILE = 'def train(lr: float) -> float:\n    """A stand-in training step."""\n    return 1.0 / (1.0 + lr)\n'


class Rest:
    """The server's REST API: every answer kept, nothing raised for 4xx/5xx."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def call(self, method, path, body=None):
        try:
            response = self.http.request(method, f"{self.url}{path}", json=body, timeout=TIMEOUT_S)
        except requests.RequestException as error:
            self.http = requests.Session()
            # Some servers drop the connection instead of answering (3.17.2 on a file name
            # longer than the file system allows); that is its answer too.
            return 0, {"message": f"no HTTP answer: {type(error).__name__}: {error}"[:500]}
        try:
            answer = response.json()
        except ValueError:
            answer = {"text": response.text[:500]}
        if response.status_code != 200:
            # A fresh connection after an error answer, in case the server closed this one.
            self.http = requests.Session()
        return response.status_code, answer

    def put_artifact(self, relative, data):
        # Every character quoted, `/` of the string too: an HTTP client removes `..` segments
        # from a path before sending it, and the point is what the server does with them.
        root, _, name = relative.partition("/names/")
        quoted = f"{root}/names/{urllib.parse.quote(name, safe='')}"
        try:
            response = self.http.put(
                f"{self.url}/api/2.0/mlflow-artifacts/artifacts/{quoted}", data=data, timeout=TIMEOUT_S
            )
        except requests.RequestException as error:
            self.http = requests.Session()
            return 0, {"message": f"no HTTP answer: {type(error).__name__}: {error}"[:500]}
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {"text": response.text[:500]}


def outcome(status, answer):
    if status == 200:
        return {"accepted": True}
    if isinstance(answer, dict):
        said = answer.get("message") or answer.get("text") or json.dumps(answer)[:500]
        code = answer.get("error_code")
    else:
        said, code = str(answer)[:500], None
    return {"accepted": False, "status": status, "errorCode": code, "answer": str(said)[:500]}


def seed_showcase(client, mlflow, large_file):
    experiment_id = client.create_experiment("showcase", tags={"purpose": "explorer e2e"})
    runs = []
    major = int(mlflow.__version__.split(".")[0])
    from mlflow.entities import Metric, Param, RunTag

    for i in range(1, SHOWCASE_RUNS + 1):
        name = "artifact-gallery" if i == 1 else f"showcase-{i:02d}"
        status = "FINISHED" if i <= 8 else ("FAILED" if i <= 10 else "RUNNING")
        run = client.create_run(experiment_id, run_name=name, tags={"team": "vision" if i % 2 else "nlp"})
        rid = run.info.run_id
        now = int(time.time() * 1000)
        metrics = []
        for step in range(STEPS):
            loss = 2.0 / (1 + step * (0.02 + i * 0.002)) + 0.01 * ((step * 7 + i) % 5)
            if i == 1 and step == 100:
                loss = float("nan")
            metrics.append(Metric("loss", loss, now + step, step))
            metrics.append(Metric("accuracy", 1 - 1.0 / (1 + step * 0.05 * i), now + step, step))
            metrics.append(Metric("learning_rate", 0.01 * (0.99**step), now + step, step))
        params = {
            "lr": str(0.001 * i),
            "batch_size": str(16 * (1 + i % 4)),
            "optimizer": "adam" if i % 3 else "sgd",
            "layers": str(2 + i % 5),
        }
        client.log_batch(
            rid,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag("stage", "explore" if i % 4 else "final"), RunTag("index", str(i))],
        )
        client.log_text(rid, f"run {name}\n", "summary.txt")
        runs.append({"runId": rid, "name": name, "status": status, "params": params})

    gallery = runs[0]["runId"]
    with tempfile.TemporaryDirectory() as tmp:

        def put(relative, data):
            full = os.path.join(tmp, relative)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)

        put("plots/loss.png", png_bytes())
        put("notes/readme.txt", TEXT_FILE.encode())
        put("code/train.py", CODE_FILE.encode())
        put("config/params.json", json.dumps({"lr": 0.001, "layers": [64, 32]}, indent=2).encode())
        put("notebooks/analysis.ipynb", json.dumps(NOTEBOOK, indent=1).encode())
        put("nested/level1/level2/level3/deep.txt", b"deep inside\n")
        client.log_artifacts(gallery, tmp)
    client.log_artifact(gallery, large_file, "data")

    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input * 2

    mlflow.set_experiment(experiment_id=experiment_id)
    model = {}
    with mlflow.start_run(run_id=gallery):
        kwargs = {"name": "model"} if major >= 3 else {"artifact_path": "model"}
        info = mlflow.pyfunc.log_model(python_model=Doubler(), pip_requirements=["mlflow"], **kwargs)
        model["modelUri"] = info.model_uri
        model_id = getattr(info, "model_id", None)
        if model_id:
            model["modelId"] = model_id

    for run in runs:
        if run["status"] != "RUNNING":
            client.set_terminated(run["runId"], run["status"])
    return {
        "experimentId": experiment_id,
        "runs": runs,
        "gallery": {
            "runId": gallery,
            "files": {
                "text": "notes/readme.txt",
                "png": "plots/loss.png",
                "code": "code/train.py",
                "json": "config/params.json",
                "notebook": "notebooks/analysis.ipynb",
                "deep": "nested/level1/level2/level3/deep.txt",
                "large": f"data/{os.path.basename(large_file)}",
            },
            "textContent": TEXT_FILE,
            "largeBytes": os.path.getsize(large_file),
            "model": model,
        },
    }


def seed_hostile(rest):
    corpus = hostile_corpus()
    status, answer = rest.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "hostile"})
    if status != 200:
        raise SystemExit(f"cannot create the hostile experiment: {status} {answer}")
    experiment_id = answer["experiment_id"]

    # One run holds the strings as param values, tag values, tag keys and metric keys (keyed or
    # valued by the string's id so a test can find each); one run per string carries it as its
    # name; one experiment per string carries it as its name.
    status, answer = rest.call(
        "POST",
        "/api/2.0/mlflow/runs/create",
        {"experiment_id": experiment_id, "run_name": "hostile-all", "start_time": int(time.time() * 1000)},
    )
    all_run = answer["run"]["info"]["run_id"]
    artifact_root = f"{experiment_id}/{all_run}/artifacts"

    entries = []
    for n, item in enumerate(corpus):
        s = item["value"]
        hid = f"h{n:02d}"
        uses = {}
        uses["experimentName"] = outcome(*rest.call("POST", "/api/2.0/mlflow/experiments/create", {"name": s}))
        if uses["experimentName"]["accepted"]:
            # The id, read back, so the test can find the row.
            code, got = rest.call(
                "GET", "/api/2.0/mlflow/experiments/get-by-name?" + urllib.parse.urlencode({"experiment_name": s})
            )
            if code == 200:
                uses["experimentName"]["experimentId"] = got["experiment"]["experiment_id"]
        code, got = rest.call(
            "POST",
            "/api/2.0/mlflow/runs/create",
            {"experiment_id": experiment_id, "run_name": s, "start_time": int(time.time() * 1000)},
        )
        uses["runName"] = outcome(code, got)
        if code == 200:
            uses["runName"]["runId"] = got["run"]["info"]["run_id"]
            uses["runName"]["storedAs"] = got["run"]["info"].get("run_name")
        uses["paramValue"] = outcome(
            *rest.call("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": all_run, "key": hid, "value": s})
        )
        uses["tagValue"] = outcome(
            *rest.call("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": all_run, "key": hid, "value": s})
        )
        uses["tagKey"] = outcome(
            *rest.call("POST", "/api/2.0/mlflow/runs/set-tag", {"run_id": all_run, "key": s, "value": hid})
        )
        uses["metricKey"] = outcome(
            *rest.call(
                "POST",
                "/api/2.0/mlflow/runs/log-metric",
                {"run_id": all_run, "key": s, "value": float(n), "timestamp": int(time.time() * 1000), "step": 0},
            )
        )
        uses["artifactName"] = outcome(*rest.put_artifact(f"{artifact_root}/names/{s}", f"{hid}\n".encode()))
        uses["artifactName"]["path"] = f"names/{s}"
        entries.append({"hid": hid, **item, "uses": uses})

    rest.call("POST", "/api/2.0/mlflow/runs/update", {"run_id": all_run, "status": "FINISHED"})
    return {
        "experimentId": experiment_id,
        "allRunId": all_run,
        "entries": entries,
        "stored": stored_hostile(rest, experiment_id, all_run),
    }


def stored_hostile(rest, experiment_id, all_run):
    """What the server holds after the corpus, read back: servers rewrite some strings (control
    characters in artifact names are percent-escaped), and the explorer shows what it holds."""
    code, got = rest.call(
        "POST", "/api/2.0/mlflow/experiments/search", {"max_results": 1000, "view_type": "ALL"}
    )
    experiments = [
        {"id": e["experiment_id"], "name": e["name"]}
        for e in (got.get("experiments", []) if code == 200 else [])
        if int(e["experiment_id"]) > int(experiment_id)
    ]
    runs, token = [], None
    while True:
        body = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        code, got = rest.call("POST", "/api/2.0/mlflow/runs/search", body)
        if code != 200:
            break
        runs += [{"id": r["info"]["run_id"], "name": r["info"].get("run_name", "")} for r in got.get("runs", [])]
        token = got.get("next_page_token")
        if not token:
            break
    code, got = rest.call("GET", f"/api/2.0/mlflow/runs/get?run_id={all_run}")
    data = got.get("run", {}).get("data", {}) if code == 200 else {}
    listing = []

    def walk(path):
        code, got = rest.call(
            "GET", "/api/2.0/mlflow/artifacts/list?" + urllib.parse.urlencode({"run_id": all_run, "path": path})
        )
        for f in got.get("files", []) if code == 200 else []:
            listing.append({"path": f["path"], "isDir": f.get("is_dir", False)})
            if f.get("is_dir") and len(listing) < 2000:
                walk(f["path"])

    walk("names")
    return {
        "experiments": experiments,
        "runs": runs,
        "params": data.get("params", []),
        "tags": [t for t in data.get("tags", []) if not t["key"].startswith("mlflow.")],
        "metrics": [{"key": m["key"], "value": m["value"]} for m in data.get("metrics", [])],
        "artifacts": listing,
    }


def cmd_seed(args):
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(args.url)
    client = MlflowClient(args.url)
    manifest = {
        "mlflowVersion": mlflow.__version__,
        "showcase": seed_showcase(client, mlflow, args.large),
        "hostile": seed_hostile(Rest(args.url)),
    }
    with open(args.manifest, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=True)
    accepted = sum(1 for e in manifest["hostile"]["entries"] for u in e["uses"].values() if u["accepted"])
    total = sum(len(e["uses"]) for e in manifest["hostile"]["entries"])
    print(json.dumps({"manifest": args.manifest, "hostileAccepted": accepted, "hostileTried": total}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    store = sub.add_parser("store")
    store.add_argument("--backend", choices=["sqlite", "file"], required=True)
    store.add_argument("--out", required=True)
    store.add_argument("--runs", type=int, default=10_000)
    large = sub.add_parser("large")
    large.add_argument("--out", required=True)
    large.add_argument("--mib", type=int, default=64)
    seed = sub.add_parser("seed")
    seed.add_argument("--url", required=True)
    seed.add_argument("--large", required=True)
    seed.add_argument("--manifest", required=True)
    args = parser.parse_args()
    {"store": cmd_store, "large": cmd_large, "seed": cmd_seed}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
