# Markdown results for bench/run:
#   python3 report.py DATA.tsv CALLGRIND.tsv META.tsv FAILDIR [PROGRAMS.tsv [IDLE.tsv]] > RESULTS.md
# and bench/program-costs' section alone:
#   python3 report.py --program-costs PROGRAMS.tsv
# DATA.tsv: rep, benchmark, allocator, status, seconds, peak KiB, checksum,
#   CPU seconds (user + system; for redis the server's; absent in old files).
# CALLGRIND.tsv: size, allocator, instructions per pair.
# META.tsv: key, value (machine, command, date, per-benchmark commands).
# FAILDIR: one file per failed run, written by bench/run.
# PROGRAMS.tsv: program, allocator, instructions (or FAIL), command.
# IDLE.tsv: rep, object size, allocator, status, idle VmRSS KiB (alloc_bench pool).
import math
import os
import statistics
import sys

ALLOCS = ["glibc", "jemalloc", "mimalloc", "tcmalloc", "kmem"]

DESCRIBE = {
    "fixed-16": "1 thread: batches of 256 mallocs of 16 B, then frees in allocation order; each batch's "
                "last object lives 64 batches longer (a live heap)",
    "fixed-64": "the same, 64 B",
    "fixed-256": "the same, 256 B",
    "fixed-4k": "the same, 4 KiB",
    "fixed-64k": "the same, 64 KiB",
    "larson": "larson-like server: 2 threads x 5000 live objects of random sizes (16 B..1 KiB, 1/64 to 8 KiB), "
              "random replace; threads exit each generation and new ones free their objects",
    "realloc": "1 thread: 8 buffers grown side by side by 1..256 B per realloc up to <64 KiB; every 64th doubles to 16 MiB",
    "prodcons": "producer thread mallocs messages (16..512 B, 1/32 to 4 KiB), consumer thread reads and frees them: "
                "every free is cross-thread",
    "churn": "4000 threads, 8 at a time, 2000 malloc/free each over a window of 64; "
             "the window left at exit is freed by the next wave",
    "threads-1": "fixed total of malloc/free steps (random 16..512 B, 1/32 to 8 KiB, window 512 per thread) "
                 "split over 1 thread",
    "threads-2": "the same split over 2 threads",
    "threads-4": "the same over 4 threads (oversubscribed: 2 cores)",
    "threads-8": "the same over 8 threads (oversubscribed: 2 cores)",
    "python3": "python3 with PYTHONMALLOC=malloc on bench/workload.py (dicts, lists, json, strings)",
    "sqlite3": "sqlite3 :memory:: bulk insert in one transaction, two indexes, joins, group by, update, delete",
    "gcc": "gcc -O2 -S on a generated 2600-line C file (driver, cc1 all under the allocator)",
    "redis": "redis-server on 127.0.0.1 under the allocator; redis-benchmark -P 16 -t set,get,lpush,lpop -d 64 "
             "(client on glibc); time = client wall time, RSS = server VmHWM",
    "perl": "perl on bench/workload.pl (hashes of arrays, split/join, regex, sort)",
}


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    return rows


def gmean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def fmt(x, digits=2):
    if x is None:
        return "-"
    if digits == 2 and x >= 100:
        return "%.0f" % x
    return "%.*f" % (digits, x)


def program_costs_section(rows):
    """The markdown section on whole programs' instruction counts."""
    out = ["## Instructions of whole programs (callgrind)", ""]
    if not rows:
        return out + ["Not run (filtered out).", ""]
    progs, cmds, ir = [], {}, {}
    for prog, a, v, cmd in rows:
        if prog not in progs:
            progs.append(prog)
        cmds[prog] = cmd
        ir[prog, a] = int(v) if v.isdigit() else None
    out.append("Total instructions (Ir) that `valgrind --tool=callgrind --callgrind-out-file=/dev/null` counts "
               "for single-threaded real programs, one process each, run as bench/program-costs does.  The "
               "program's own instructions are nearly the same under each allocator, so the differences are the "
               "allocator's cost, start-up included (not cache misses nor system time).  Preloads as for the "
               "wall-time rows, kmem with its default settings.  Hash seeds are fixed, so the counts repeat "
               "to about 0.03% (the environment's size and mimalloc's and jemalloc's random numbers move them).  "
               "Every run's stdout equals the program's native run under glibc.  Millions of instructions, then "
               "each allocator's count / mimalloc's (below 1: fewer instructions than mimalloc); lower is better.")
    out.append("")
    peers = [a for a in ALLOCS if a != "mimalloc"]
    out.append("| program | " + " | ".join("%s (M)" % a for a in ALLOCS) + " | "
               + " | ".join("%s / mimalloc" % a for a in peers) + " |")
    out.append("|---" * (1 + len(ALLOCS) + len(peers)) + "|")
    ratios = {a: [] for a in peers}
    for prog in progs:
        ref = ir.get((prog, "mimalloc"))
        cells = []
        for a in peers:
            v = ir.get((prog, a))
            r = v / ref if v and ref else None
            ratios[a].append(r)
            cells.append("%.3f" % r if r else "-")
        counts = ["%.1f" % (ir[prog, a] / 1e6) if ir.get((prog, a)) else
                  ("**FAIL**" if (prog, a) in ir else "-") for a in ALLOCS]
        out.append("| %s | %s | %s |" % (prog, " | ".join(counts), " | ".join(cells)))
    gm = []
    for a in peers:
        g, n = gmean(ratios[a]), sum(1 for r in ratios[a] if r)
        gm.append("**%s**" % ("%.3f" % g if g else "-") + ("" if n == len(progs) else " (%d of %d)" % (n, len(progs))))
    out.append("| **geometric mean** | %s | %s |" % (" | ".join("" for _ in ALLOCS), " | ".join(gm)))
    out.append("")
    out.append("| program | command (the allocator's `LD_PRELOAD` added, under callgrind) |")
    out.append("|---|---|")
    for prog in progs:
        out.append("| %s | `%s` |" % (prog, cmds[prog].replace("|", "\\|")))
    out.append("")
    return out


def idle_section(rows):
    """Median idle VmRSS of alloc_bench pool per object size and allocator."""
    if not rows:
        return []
    kib = {}
    for _rep, size, a, status, kb in rows:
        if status == "ok" and kb:
            kib.setdefault((size, a), []).append(float(kb))
    sizes = []
    for _rep, size, *_ in rows:
        if size not in sizes:
            sizes.append(size)
    out = ["## Idle memory of a thread pool", ""]
    out.append("`alloc_bench pool 32 SIZE`: 32 threads each malloc and free 512 objects of SIZE bytes "
               "4 times, then all wait; the process's VmRSS 300 ms later, with no allocator call "
               "meanwhile, is the memory an idle pool keeps.  Median of the repetitions, MiB; "
               "lower is better.  Not part of the geometric means above.")
    out.append("")
    out.append("| object size | " + " | ".join(ALLOCS) + " | kmem / glibc | kmem / mimalloc |")
    out.append("|---" * (len(ALLOCS) + 3) + "|")
    for size in sizes:
        med = {a: statistics.median(kib[size, a]) / 1024.0 for a in ALLOCS if (size, a) in kib}

        def ratio(ref):
            return fmt(med["kmem"] / med[ref]) if "kmem" in med and med.get(ref) else "-"
        out.append("| %s B | %s | %s | %s |" % (size, " | ".join(fmt(med.get(a)) for a in ALLOCS),
                                                 ratio("glibc"), ratio("mimalloc")))
    out.append("")
    return out


def main():
    if sys.argv[1] == "--program-costs":
        print("\n".join(program_costs_section(read_tsv(sys.argv[2]))))
        return
    data, cg, meta_rows, faildir = read_tsv(sys.argv[1]), read_tsv(sys.argv[2]), read_tsv(sys.argv[3]), sys.argv[4]
    programs = read_tsv(sys.argv[5]) if len(sys.argv) > 5 else []
    idle = read_tsv(sys.argv[6]) if len(sys.argv) > 6 else []
    meta = {r[0]: (r[1] if len(r) > 1 else "") for r in meta_rows}
    benches = []
    runs = {}  # (bench, alloc) -> list of (status, secs, kib, cpu secs or "")
    for rep, b, a, status, secs, kib, _sum, *rest in data:
        if b not in benches:
            benches.append(b)
        runs.setdefault((b, a), []).append((status, secs, kib, rest[0] if rest else ""))

    med_t, med_r, med_c, nfail, spread, min_t = {}, {}, {}, {}, {}, {}
    for (b, a), rs in runs.items():
        ok = [(float(s), float(k)) for st, s, k, _ in rs if st == "ok" and s and k]
        cs = [float(c) for st, _, _, c in rs if st == "ok" and c]
        nfail[b, a] = len(rs) - len(ok)
        # CPU times (and redis's wall time) are /usr/bin/time's, in 0.01 s
        # steps: a 0.00 counts as 0.005
        if cs:
            med_c[b, a] = max(statistics.median(cs), 0.005)
        if ok:
            ts = [t for t, _ in ok]
            med_t[b, a] = max(statistics.median(ts), 0.005)
            min_t[b, a] = max(min(ts), 0.005)
            med_r[b, a] = statistics.median(k for _, k in ok) / 1024.0
            m = med_t[b, a]
            spread[b, a] = (max(ts) - min(ts)) / m if m > 0 and len(ts) > 1 else None

    out = []
    w = out.append
    quick = meta.get("quick") == "1"
    w("# kmem benchmark results" + (" (quick smoke run: small sizes, not for conclusions)" if quick else ""))
    w("")
    w("Written by `bench/run` (see the comment at its top); do not edit by hand.")
    w("")
    def key_value_section(title, rows):
        w("## " + title)
        w("")
        w("| | |")
        w("|---|---|")
        for label, value in rows:
            w("| %s | %s |" % (label, value))

    m = lambda key: meta.get(key, "?")
    dur = int(meta.get("duration", "0"))
    key_value_section("Run", [
        ("command", "`%s`" % m("command")),
        ("date", m("date")),
        ("duration", "%d s (%dm%02ds)" % (dur, dur // 60, dur % 60)),
        ("repetitions", "%s (interleaved: each repetition runs every benchmark under all five allocators back to back, in a fresh random order)" % m("reps")),
        ("kmem", m("kmem")),
    ])
    w("")
    key_value_section("Machine", [
        ("CPU", m("cpu")),
        ("nproc", m("nproc")),
        ("memory", m("memory")),
        ("kernel", m("kernel")),
        ("OS", m("os")),
        ("transparent hugepages", "%s; hugetlb pages: %s" % (m("thp"), m("hugepages"))),
        ("packages", m("versions")),
    ])
    w("")
    w("A shared virtual machine: wall times vary 20-50% from run to run, hence medians and ratios. "
      "The `noise` column is the median over the five allocators of (max - min) / median of that row's runs.")
    w("")
    w("## Allocators and benchmarks")
    w("")
    w("glibc: no preload.  jemalloc, mimalloc, tcmalloc: `LD_PRELOAD` of Debian's libjemalloc2, libmimalloc2.0, "
      "libtcmalloc-minimal4.  kmem: `LD_PRELOAD` of libkmem.so built by tools/build, default settings.  "
      "redis-server is linked with libjemalloc2, so its glibc run preloads libc.so.6 to put glibc's malloc first.  "
      "Every run's stdout (for redis: the test names, DBSIZE, LLEN, STRLEN after the run) must match glibc's.")
    w("")
    w("| benchmark | what | command (allocator's LD_PRELOAD added) |")
    w("|---|---|---|")
    for b in benches:
        w("| %s | %s | `%s` |" % (b, DESCRIBE.get(b, ""), meta.get("cmd:" + b, "").replace("|", "\\|")))
    w("")

    def cell(b, a, table, digits=2):
        v = table.get((b, a))
        n = nfail.get((b, a), 0)
        if v is None:
            return "**FAIL**" if (b, a) in runs else "-"
        s = fmt(v, digits)
        if n:
            s += " (**%d failed**)" % n
        return s

    def value_table(title, table, unit_note, digits=2):
        w("### " + title)
        w("")
        w(unit_note)
        w("")
        w("| benchmark | " + " | ".join(ALLOCS) + " | noise |")
        w("|---" * (len(ALLOCS) + 2) + "|")
        for b in benches:
            sp = statistics.median([spread[b, a] for a in ALLOCS if spread.get((b, a)) is not None] or [0])
            w("| %s | %s | %s |" % (b, " | ".join(cell(b, a, table, digits) for a in ALLOCS),
                                    "%.0f%%" % (100 * sp) if len(data) > len(benches) * len(ALLOCS) else "-"))
        gm = []
        for a in ALLOCS:
            vals = [table.get((b, a)) for b in benches]
            g = gmean(vals)
            n = sum(1 for v in vals if v)
            gm.append(fmt(g, digits) + ("" if n == len(benches) else " (%d of %d)" % (n, len(benches))))
        w("| **geometric mean** | %s | |" % " | ".join("**%s**" % g for g in gm))
        w("")

    def ratio_table(title, table, ref):
        w("### " + title)
        w("")
        w("| benchmark | " + " | ".join(ALLOCS) + " |")
        w("|---" * (len(ALLOCS) + 1) + "|")
        cols = {a: [] for a in ALLOCS}
        for b in benches:
            r = table.get((b, ref))
            cells = []
            for a in ALLOCS:
                v = table.get((b, a))
                if v is None or r is None or r <= 0:
                    cells.append("**FAIL**" if (b, a) in runs and v is None else "-")
                    cols[a].append(None)
                else:
                    cols[a].append(v / r)
                    cells.append(fmt(v / r))
            w("| %s | %s |" % (b, " | ".join(cells)))
        gm = []
        for a in ALLOCS:
            n = sum(1 for v in cols[a] if v)
            gm.append(fmt(gmean(cols[a])) + ("" if n == len(benches) else " (%d of %d)" % (n, len(benches))))
        w("| **geometric mean** | %s |" % " | ".join("**%s**" % g for g in gm))
        w("")
        return cols

    w("## Wall time")
    w("")
    value_table("Median wall time (s)", med_t,
                "Seconds, median of %s runs (to 1 ms; redis: the client's /usr/bin/time, in 10 ms steps); "
                "lower is better." % meta.get("reps", "?"), digits=3)
    tm = ratio_table("Wall time / mimalloc (below 1: faster than mimalloc)", med_t, "mimalloc")
    tg = ratio_table("Wall time / glibc (below 1: faster than glibc)", med_t, "glibc")
    if len(data) > len(benches) * len(ALLOCS):
        # This machine's short runs come in a fast and a slow mode about
        # 1.7x apart, for every allocator: a median tells which mode an
        # allocator happened to draw more often.  Each one's fastest run
        # is its least disturbed, so its ratios show what the medians blur.
        w("The short benchmarks' runs fall into a fast and a slow mode (up to 1.7x apart) on this machine, "
          "for every allocator alike, so a row's median can compare one allocator's fast mode with another's "
          "slow one.  The same ratios from each allocator's fastest run:")
        w("")
        tf = ratio_table("Wall time / mimalloc, fastest runs", min_t, "mimalloc")
    else:
        tf = None
    w("## Peak RSS")
    w("")
    value_table("Median peak RSS (MiB)", med_r,
                "MiB, median of %s runs (`/usr/bin/time` %%M: the child and the children it waited for; "
                "redis: the server's VmHWM); lower is better.  The noise column is about wall time." % meta.get("reps", "?"))
    rm = ratio_table("Peak RSS / mimalloc", med_r, "mimalloc")
    rg = ratio_table("Peak RSS / glibc", med_r, "glibc")

    if med_c:
        w("## CPU time")
        w("")
        value_table("Median CPU time (s)", med_c,
                    "User + system seconds, median of %s runs (`/usr/bin/time` %%U + %%S: the child and the children "
                    "it waited for; redis: the server's utime + stime, while the wall time above is its client's); "
                    "lower is better.  The noise column is about wall time." % meta.get("reps", "?"))
        ratio_table("CPU time / glibc", med_c, "glibc")
    w("## kmem's worst ratios")
    w("")
    kidx = ALLOCS.index("kmem")
    worst = [("time / mimalloc", tm)] + ([("time / mimalloc, fastest runs", tf)] if tf else []) + \
        [("time / glibc", tg), ("RSS / mimalloc", rm), ("RSS / glibc", rg)]
    for title, cols in worst:
        pairs = sorted(((v, b) for b, v in zip(benches, cols["kmem"]) if v), reverse=True)[:5]
        w("* %s: %s" % (title, ", ".join("%s %s" % (b, fmt(v)) for v, b in pairs) or "-"))
    failed_k = [b for b in benches if nfail.get((b, "kmem"), 0)]
    if failed_k:
        w("* kmem failed on: %s (see Failures)" % ", ".join(failed_k))
    w("")
    _ = kidx

    w("## Instructions per malloc+free pair (callgrind)")
    w("")
    if cg:
        w("`valgrind --tool=callgrind` on bench/malloc_pair.c (a malloc+free pair of one size in a loop), "
          "(I(2N) - I(N)) / N with N = 20000 (2000 in a quick run): start-up cancels, the loop's own "
          "few instructions stay in.  kmem with KMEM_HUGEPAGES=off, as bench/malloc-costs runs it.  Exact and repeatable.")
        w("")
        sizes = []
        val = {}
        for size, a, v in cg:
            if size not in sizes:
                sizes.append(size)
            val[size, a] = v
        w("| size (B) | " + " | ".join(ALLOCS) + " | kmem / mimalloc | kmem / glibc |")
        w("|---" * (len(ALLOCS) + 3) + "|")
        for s in sizes:
            cells = [val.get((s, a), "-") for a in ALLOCS]

            def ratio(ref):
                try:
                    return "%.2f" % (int(val[s, "kmem"]) / int(val[s, ref]))
                except (KeyError, ValueError, ZeroDivisionError):
                    return "-"
            w("| %s | %s | %s | %s |" % (s, " | ".join(cells), ratio("mimalloc"), ratio("glibc")))
        w("")
    else:
        w("Not run (filtered out).")
        w("")
    out.extend(program_costs_section(programs))
    out.extend(idle_section(idle))

    w("## Failures")
    w("")
    files = sorted(f for f in os.listdir(faildir) if not f.endswith(".stdout")) if os.path.isdir(faildir) else []
    if not files:
        w("None: every run exited 0 and printed glibc's output.")
    else:
        w("%d failed run(s); their runs are left out of the medians above." % len(files))
        w("")
        for f in files:
            with open(os.path.join(faildir, f)) as fh:
                text = fh.read().rstrip()
            w("```")
            w(text)
            w("```")
            w("")
    w("")
    w("<details><summary>Raw runs (rep, benchmark, allocator, status, seconds, peak KiB, stdout md5 prefix, CPU seconds)</summary>")
    w("")
    w("```")
    for r in data:
        w("\t".join(r))
    w("```")
    w("")
    w("</details>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
