"""The mutation score per module from `mutmut results --all true` (see scripts/mutation)."""

import collections
import re
import sys

counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    name, _, status = line.strip().rpartition(": ")
    if name:
        module = re.split(r"\.x_|\.x\u01c1", name)[0].removeprefix("living_theories.")
        counts[module][status] += 1
heads = ("module", "mutants", "killed", "survived", "no tests", "other", "score", "of tested")
print("{:24} {:>8} {:>7} {:>9} {:>9} {:>6} {:>6} {:>10}".format(*heads))
everything: collections.Counter = collections.Counter()
for module, c in [*sorted(counts.items()), ("all", everything)]:
    if module != "all":
        everything.update(c)
    total, killed, survived, untested = (sum(c.values()), c["killed"], c["survived"],
                                         c["no tests"])
    tested = killed + survived
    print(f"{module:24} {total:8} {killed:7} {survived:9} {untested:9} "
          f"{total - tested - untested:6} {killed / total:6.0%} "
          f"{killed / tested if tested else 0:10.0%}")
