"""Knowledge-base search: jieba's start-up cost and memory, segmentation
speed, and search latency on SQLite (FTS5) and PostgreSQL (GIN tsvector).

Usage: python bench/bench_kb_search.py [--articles N] [--queries N] [--no-postgres]

The start-up figures come from a fresh child process (so nothing is loaded
yet): dictionary load without jieba's cache file and with it, and the
resident memory it adds.  The database holds the 35 starter articles plus
N-35 synthetic ones (starter texts recombined, so the vocabulary is
realistic); each query is run ``--queries`` times, p50 and p99 reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = {
    "路灯": "路灯",
    "社保卡丢了": "社保卡丢了怎么办",
    "transcript (58 chars)": "喂你好，我们小区这两天晚上路灯一直不亮，楼道灯也坏了，"
                             "黑乎乎的老人出门很不安全，物业说不归他们管",
}
NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)

STARTUP = r"""
import json, sys, tempfile, time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
sys.path.insert(0, sys.argv[1])
from worksheets.knowledge_search import Segmenter
import jieba
before = rss()
seg = Segmenter()
t = time.perf_counter(); seg.warm_up(); load = time.perf_counter() - t
after = rss()
text = open(sys.argv[3], encoding='utf-8').read()
t = time.perf_counter(); words = 0
for _ in range(20):
    words += len(seg.words(text))
spent = time.perf_counter() - t
print(json.dumps({"load_s": load, "rss_mb": after - before,
                  "chars_per_s": 20 * len(text) / spent, "words": words // 20}))
"""


def startup(kind: str) -> dict[str, float]:
    answers = "\n".join(a["answer"] for a in json.loads(
        (ROOT / "worksheets" / "kb_baoji.json").read_text(encoding="utf-8")))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(answers)
    env = dict(os.environ)
    if kind == "cold":  # jieba keeps its cache file in the temporary directory
        env["TMPDIR"] = tempfile.mkdtemp()
    out = subprocess.run([sys.executable, "-c", STARTUP, str(ROOT), kind, f.name],
                         capture_output=True, text=True, check=True, env=env).stdout
    os.unlink(f.name)
    return json.loads(out)


def fill(url: str, articles: int) -> None:
    from core.db import Database
    from hotline.migrate import upgrade
    from hotline.seed import seed_demo_city
    from worksheets.knowledge import ArticleDraft, create_article
    from worksheets.knowledge_import import STARTER_FILE

    starter = json.loads(STARTER_FILE.read_text(encoding="utf-8"))
    rng = random.Random(13)
    db = Database(url)
    upgrade(db.engine)
    db.call(lambda s: seed_demo_city(s, NOW))

    def more(s):  # type: ignore[no-untyped-def]
        for i in range(articles - len(starter)):
            a, b = rng.sample(starter, 2)
            create_article(s, ArticleDraft(
                category=a["category"], title=f"{a['title'][:12]}{b['title'][-8:]}（{i}）",
                answer=a["answer"][: len(a["answer"]) // 2] + b["answer"][len(b["answer"]) // 2:],
                keywords=tuple(a["keywords"][:2] + b["keywords"][:1])), user_id=None, now=NOW)

    started = time.perf_counter()
    db.call(more)
    print(f"  filled {articles} articles in {time.perf_counter() - started:.1f} s")
    db.close()


def latency(url: str, queries: int) -> dict[str, tuple[float, float, int]]:
    from core.db import Database
    from worksheets import knowledge

    db = Database(url)
    out = {}
    for name, query in QUERIES.items():
        times, found = [], 0
        for _ in range(queries):
            t = time.perf_counter()
            found = len(db.call(lambda s, q=query: knowledge.search(
                s, q, today=date(2026, 12, 1), limit=10)))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = (statistics.median(times), times[int(len(times) * 0.99) - 1], found)
    db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for kind in ("cold", "cached"):
        r = startup(kind)
        print(f"jieba start-up ({kind} cache): load {r['load_s']:.2f} s, "
              f"+{r['rss_mb']:.0f} MB RSS, segmenting {r['chars_per_s'] / 1000:.0f}k chars/s")
    targets = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/kb.db"}
    admin = None
    if not args.no_postgres:
        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg://root@127.0.0.1:5432/postgres",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        targets["postgresql"] = f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
    try:
        for kind, url in targets.items():
            print(f"{kind}:")
            fill(url, args.articles)
            for query, (p50, p99, found) in latency(url, args.queries).items():
                print(f"  {query:<24} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({found} hits)")
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
