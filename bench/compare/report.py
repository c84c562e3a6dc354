# report.py - the records and tables of bench/compare.sh. Standard library only, so any
# python3 runs it.
#
#   report.py collect --framework F --input HxWxC --mode M --models a,b --batch 1,8
#                     [--error TEXT] < output
#       One framework's output to records: clnet's JSON lines (`clnet bench model --json`)
#       are converted, a peer's are already records. Every
#       expected case (--models x --batch) without a line gets an "error" record (--error,
#       e.g. why the process failed), so the table can say why a cell is n/a.
#   report.py table RECORDS.jsonl
#       one table per scenario (input and mode): rows model/batch, a column per framework
#       (median ms for inference, images/s for training) and the ratios peer/clnet.
#   report.py gemm LINES.jsonl
#       GEMM per shape: clnet's packed kernel (bench_gemm --impl packed) against OpenBLAS
#       (openblas_gemm.py), GFLOP/s each and the ratio clnet/OpenBLAS (> 1: clnet faster).
#
# A record (one JSON line, also what --json FILE of compare.sh holds):
#   framework  clnet | torch | ort | opencv | opencv-ocl
#   model      clnet zoo name (resnet18, resnet50, mobilenetv2, mnasnet)
#   input "HxWxC", batch, mode "inference" | "training"
#   first_ms, min_ms, median_ms, p90_ms (ms per batch), images_per_s, repeats
#   optional: version, threads, device, note; "error" instead of the times when it failed.
import argparse
import json
import sys

FRAMEWORKS = ["clnet", "torch", "ort", "opencv", "opencv-ocl"]
TITLES = {"clnet": "clnet", "torch": "torch", "ort": "ORT", "opencv": "OpenCV",
          "opencv-ocl": "OCV-OCL"}
# A framework that ran while other processes took more of the CPU than this (%) is flagged.
BUSY = 20


def from_clnet(r, a):
    """A clnet output line as a record, or None for a line of another mode."""
    if "median_ms" not in r:
        return None
    mode = r.get("mode")
    if mode != a.mode:
        return None
    inp = r.get("input", a.input)
    # `clnet bench model` runs one model per call and may title it otherwise (a spec
    # file's path): the requested name keys the row.
    model = a.models[0] if len(a.models) == 1 else r["model"]
    rec = {"framework": "clnet", "model": model, "input": inp, "batch": r["batch"],
           "mode": mode}
    for k in ("first_ms", "min_ms", "median_ms", "p90_ms", "images_per_s", "gflops", "device"):
        if k in r:
            rec[k] = r[k]
    if a.source:
        rec["source"] = a.source
    return rec


def json_lines(lines):
    """The JSON objects among lines (other lines, e.g. logs, are skipped)."""
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                pass


def collect(a):
    got = []
    for r in json_lines(sys.stdin):
        if "model" not in r or "batch" not in r:
            continue
        rec = from_clnet(r, a) if a.framework == "clnet" else r
        if rec is not None and rec["mode"] == a.mode:
            got.append(rec)
    seen = {(r["model"], r["batch"]) for r in got}
    for model in a.models:
        for batch in a.batch:
            if (model, batch) not in seen:
                got.append({"framework": a.framework, "model": model, "input": a.input,
                            "batch": batch, "mode": a.mode,
                            "error": a.error or "no result (see the log above)"})
    for rec in got:
        if a.other_cpu is not None:
            rec["other_cpu_pct"] = a.other_cpu
        print(json.dumps(rec))
    return 0


def fmt(v, mode):
    if v is None:
        return "n/a"
    return f"{v:.1f}" if mode == "inference" or v < 1000 else f"{v:.0f}"


def ratio(peer, clnet, mode):
    """> 1 means clnet is faster: peer time / clnet time, i.e. clnet img/s / peer img/s."""
    if peer is None or clnet is None or peer <= 0 or clnet <= 0:
        return "-"
    return f"{(peer / clnet if mode == 'inference' else clnet / peer):.2f}"


def table(a):
    with open(a.file) as f:
        recs = list(json_lines(f))
    scenarios = []
    for r in recs:
        key = (r["mode"], r["input"])
        if key not in scenarios:
            scenarios.append(key)
    for mode, inp in scenarios:
        rows = [r for r in recs if r["mode"] == mode and r["input"] == inp]
        fws = [fw for fw in FRAMEWORKS if any(r["framework"] == fw for r in rows)]
        peers = [fw for fw in fws if fw != "clnet"]
        cases = []
        for r in rows:
            if (r["model"], r["batch"]) not in cases:
                cases.append((r["model"], r["batch"]))
        unit = "median ms per batch, lower is better" if mode == "inference" else \
            "images/s, higher is better"
        # Ratios are of time per image (clnet's images/s over the peer's in training),
        # so > 1 means clnet is faster in both tables.
        print(f"\n== {mode}, input {inp} ({unit}; ratio peer/clnet of time per image > 1: "
              "clnet faster) ==")
        head = ["model", "batch"] + [TITLES[fw] for fw in fws] + \
            [f"{TITLES[fw]}/clnet" for fw in peers]
        body, notes = [], {}  # (model, text) -> ([frameworks], [batches]), in order
        for model, batch in cases:
            val = {}
            for fw in fws:
                r = next((r for r in rows if r["framework"] == fw and r["model"] == model
                          and r["batch"] == batch), None)
                if r is None:
                    val[fw] = None
                    continue
                text = f"n/a: {r['error']}" if "error" in r else r.get("note")
                if text:
                    fw_list, batches = notes.setdefault((model, text), ([], []))
                    if fw not in fw_list:
                        fw_list.append(fw)
                    if batch not in batches:
                        batches.append(batch)
                val[fw] = None if "error" in r else \
                    r["median_ms"] if mode == "inference" else r["images_per_s"]
            body.append([model, str(batch)] + [fmt(val[fw], mode) for fw in fws] +
                        [ratio(val[fw], val.get("clnet"), mode) for fw in peers])
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        line = lambda row: "  ".join(c.ljust(w) if i < 1 else c.rjust(w)  # noqa: E731
                                     for i, (c, w) in enumerate(zip(row, widths)))
        print(line(head))
        print("  ".join("-" * w for w in widths))
        for row in body:
            print(line(row))
        busy = {fw: max((r.get("other_cpu_pct", 0) for r in rows if r["framework"] == fw),
                        default=0) for fw in fws}
        if any(busy.values()):
            print("  CPU taken by other processes while each ran: " +
                  ", ".join(f"{TITLES[fw]} {busy[fw]:.0f}%" for fw in fws) +
                  (f" (over {BUSY}%: those times are inflated)"
                   if max(busy.values()) > BUSY else ""))
        for (model, text), (fw_list, batches) in notes.items():
            who = ", ".join(TITLES[fw] for fw in fw_list)
            print(f"  note: {who} {model} batch {','.join(map(str, batches))}: {text}")
    return 0


def gemm(a):
    """bench_gemm's and openblas_gemm.py's JSON lines (one per impl and shape) as a table."""
    by = {}
    order = []
    with open(a.file) as f:
        for r in json_lines(f):
            if "impl" not in r or "gflops" not in r:
                continue
            key = (r["shape"], r["m"], r["n"], r["k"], r.get("trans", "NN"))
            if key not in order:
                order.append(key)
            by[(key, r["impl"])] = r["gflops"]
    head = ["shape", "MxNxK", "trans", "packed", "OpenBLAS", "packed/OpenBLAS"]
    body = []
    for key in order:
        name, m, n, k, trans = key
        c, o = by.get((key, "packed")), by.get((key, "openblas"))
        body.append([name, f"{m}x{n}x{k}", trans, "n/a" if c is None else f"{c:.1f}",
                     "n/a" if o is None else f"{o:.1f}",
                     f"{c / o:.2f}" if c and o else "-"])
    print("\n== GEMM GFLOP/s (median; ratio > 1: clnet faster) ==")
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths]] + body:
        print("  ".join(c.ljust(w) if i < 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    return 0


def main():
    p = argparse.ArgumentParser(description="records and tables of bench/compare.sh")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--framework", required=True, choices=FRAMEWORKS)
    c.add_argument("--input", required=True)
    c.add_argument("--mode", required=True, choices=["inference", "training"])
    c.add_argument("--models", default="", type=lambda s: [m for m in s.split(",") if m])
    c.add_argument("--batch", default="", type=lambda s: [int(b) for b in s.split(",") if b])
    c.add_argument("--source", default="", help="clnet: which command measured it")
    c.add_argument("--error", default="")
    c.add_argument("--other-cpu", type=float, default=None,
                   help="%% of the machine's CPU other processes took during the run")
    t = sub.add_parser("table")
    t.add_argument("file")
    g = sub.add_parser("gemm")
    g.add_argument("file")
    a = p.parse_args()
    return {"collect": collect, "table": table, "gemm": gemm}[a.command](a)


if __name__ == "__main__":
    sys.exit(main())
