import sys, time, re
from pathlib import Path
from kernelwright.verifier.worker import Worker
from kernelwright.verifier.job import Job
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import load_problem, read_candidate
from kernelwright.verifier.judge import judge
root = Path(sys.argv[1])
w = Worker("cuda:0")
for name in sys.argv[2:]:
    f = root / name; text = f.read_text()
    m = re.search(r"problems/(\w+)\.py", text)
    pname = m.group(1) if m else f.stem.split("__")[0]
    p = load_problem(str(root / "problems" / f"{pname}.py"))
    src, label = read_candidate(str(f))
    t = time.time()
    v = judge(Job(p, src, label, VerifyOptions(), "cuda:0"), w)
    tm = v.timing.median_ms if v.timing else None
    print(f"{f.name:32s} {time.time()-t:5.1f}s {v.status:13s} {v.stage:11s} rule={v.rule} flags={v.flags} t={tm} sp={v.speedups} | {v.message[:200]}", flush=True)
    if v.status not in ("correct", "rejected", "incorrect"): print(v.logs[-1500:])
w.close()
