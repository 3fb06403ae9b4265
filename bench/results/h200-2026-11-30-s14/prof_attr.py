#!/usr/bin/env python3
"""prof_attr.py NCU_SOURCE_CSV KERNEL_INDEX SASS FUNCTION [TOP]: attributes Nsight Compute's
per-instruction source counters (`ncu --import R --page source --csv --print-source sass`)
of one profiled kernel to source lines, through the line table of `nvdisasm -g -c` of the
same cubin (extracted from libtriscan_gpu with `cuobjdump -xelf`); FUNCTION is a substring
of the mangled name. Prints, per source line, its share of the warp-state samples, of the
executed instructions and of the excess shared-memory wavefronts (bank conflicts), with the
line's three largest stall reasons. A session-14 analysis script, not part of the library."""
import collections
import csv
import re
import sys

def linemap(sass, fn):
    f = open(sass).read().split('\n'); start = None; end = len(f)
    for i, l in enumerate(f):
        if l.startswith('//-----') and '.text.' in l:
            if start is not None: end = i; break
            if fn in l: start = i
    cur = None; m2 = {}
    for l in f[start:end]:
        m = re.search(r'//## File "([^"]+)", line (\d+)', l)
        if m: cur = (m.group(1).split('/')[-1], int(m.group(2))); continue
        m = re.match(r'\s+/\*([0-9a-f]{4,})\*/', l)
        if m and cur: m2[int(m.group(1), 16)] = cur
    return m2
rows = list(csv.reader(open(sys.argv[1])))
kernels = []; cur = None
for r in rows:
    if r and r[0] == 'Kernel Name': cur = {'name': r[1], 'rows': []}; kernels.append(cur); continue
    if r and r[0] == 'Address': cur['hdr'] = r; continue
    if cur and r: cur['rows'].append(r)
which = int(sys.argv[2]); sass = sys.argv[3]; fn = sys.argv[4]; top = int(sys.argv[5]) if len(sys.argv) > 5 else 40
k = kernels[which]; h = k['hdr']; ix = {n: i for i, n in enumerate(h)}
lm = linemap(sass, fn)
agg = collections.defaultdict(lambda: [0, 0, 0, collections.Counter()])
tot = [0, 0, 0]
stalls = [n for n in h if n.startswith('stall_') and 'Not Issued' not in n]
def num(x):
    try: return float(x)
    except: return 0.0
base = int(k['rows'][0][ix['Address']], 16)  # the kernel's first instruction
for r in k['rows']:
    a = int(r[ix['Address']], 16) - base
    key = lm.get(a, ('?', 0))
    s = num(r[ix['Warp Stall Sampling (All Samples)']]); ie = num(r[ix['Instructions Executed']]); ex = num(r[ix['L1 Wavefronts Shared Excessive']])
    g = agg[key]; g[0] += s; g[1] += ie; g[2] += ex
    for n in stalls: g[3][n] += num(r[ix[n]])
    tot[0] += s; tot[1] += ie; tot[2] += ex
print(k['name'][:90]); print('samples %.0f instr %.3g shared-excess %.3g' % tuple(tot))
for key, g in sorted(agg.items(), key=lambda kv: -kv[1][0])[:top]:
    st = ', '.join('%s %.0f%%' % (n[6:], 100 * v / max(g[0], 1)) for n, v in g[3].most_common(3))
    print('%-28s stall %5.1f%%  instr %5.1f%%  shx %5.1f%%  | %s' % ('%s:%d' % key, 100 * g[0] / tot[0], 100 * g[1] / tot[1], 100 * g[2] / max(tot[2], 1), st))
