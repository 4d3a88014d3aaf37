"""Checks ctrace --threads --format json on tests/fixtures/pydeadlock.py against the interpreter's
own view: the faulthandler dump (faulthandler.dump_traceback(all_threads=True), written by the
fixture on SIGUSR1) for the line each blocked thread waits at, and the fixture's id() of each lock
for the locks named. Usage: pythreadscheck.py CTRACE_JSON DUMP_FILE IDS_FILE. Prints what differs
and exits 1, or exits 0."""
import json
import re
import sys

ct = json.load(open(sys.argv[1]))
dump = {}
cur = None
for line in open(sys.argv[2]):
    m = re.match(r'(?:Current thread|Thread) (0x[0-9a-f]+)', line)
    if m:
        cur = dump.setdefault(int(m.group(1), 16), [])
        continue
    m = re.match(r'\s+File "(.*)", line (\d+) in (.*)', line)
    if m and cur is not None:
        cur.append((m.group(3), m.group(1), int(m.group(2))))
tids, locks, want = {}, {}, {}
for line in open(sys.argv[3]):
    w = line.split()
    if w[0] == 'lock':
        locks[w[1]] = '%#x' % int(w[2], 16)
    else:
        tids[w[0]] = int(w[2])
        want[w[0]] = dump.get(int(w[1]))
threads = {t['tid']: t for t in ct['threads']}
errors = []


def where(name):
    """(function, file, line) of the why's ' in FUNC (FILE:LINE)', the function unqualified."""
    t = threads.get(tids[name])
    m = re.search(r' in (\S+) \((.*):(\d+)\)$', (t or {}).get('why') or '')
    return (m.group(1).split('.')[-1], m.group(2), int(m.group(3))) if m else None


for name in ('dead-a', 'dead-b', 'locked', 'sleeper', 'main'):
    t = threads.get(tids[name])
    if t is None or not want[name]:
        errors.append('%s: missing (ctrace %s, faulthandler %s)' % (name, t is not None, bool(want[name])))
        continue
    if where(name) != want[name][0]:
        errors.append('%s: waits at %s, faulthandler says %s (why: %s)' % (name, where(name), want[name][0], t['why']))

# the deadlock: both threads, each waiting for the other's RLock, held by the other
dl = [d for d in ct['deadlocks'] if {x['tid'] for x in d['threads']} == {tids['dead-a'], tids['dead-b']}]
if len(dl) != 1:
    errors.append('no deadlock between dead-a and dead-b: %s' % ct['deadlocks'])
else:
    for x in dl[0]['threads']:
        mine, other = ('rlock_b', 'dead-b') if x['tid'] == tids['dead-a'] else ('rlock_a', 'dead-a')
        if x['waits_for_lock'] != locks[mine] or x['held_by'] != tids[other] or x['lock_kind'] != 'lock':
            errors.append('deadlock: %s waits for %s (%s) held by %s; want %s held by %s' % (
                x['tid'], x['waits_for_lock'], x['lock_kind'], x['held_by'], locks[mine], tids[other]))
for name, held in (('dead-a', 'rlock_a'), ('dead-b', 'rlock_b')):
    t = threads.get(tids[name]) or {}
    if t.get('locks_held') != [locks[held]] or 'RLock.acquire' not in (t.get('why') or ''):
        errors.append('%s: holds %s, why %s; want [%s]' % (name, t.get('locks_held'), t.get('why'), locks[held]))
# the plain Lock: named by its address, its owner said unknown, and no lock edge made up
t = threads.get(tids['locked']) or {}
if 'Lock.acquire on %s: owner unknown, a Lock has no owner' % locks['gate'] not in (t.get('why') or '') or \
        t.get('lock_waiting') is not None or t.get('waits_for') is not None:
    errors.append('locked: %s' % {k: t.get(k) for k in ('why', 'lock_waiting', 'waits_for')})
# the GIL: the CPU-bound threads that wait for it say so, at a line of burn; none is the holder
gil = [n for n in ('burn-0', 'burn-1', 'burn-2') if (threads.get(tids[n]) or {}).get('wait') == 'gil']
if not gil:
    errors.append('no burn thread waits for the GIL: %s' % [threads.get(tids[n]) for n in ('burn-0', 'burn-1', 'burn-2')])
burners = {tids[n] for n in ('burn-0', 'burn-1', 'burn-2')}
for n in gil:
    w = where(n)
    if not w or w[0] != 'burn' or not w[1].endswith('pydeadlock.py'):
        errors.append('%s: waits for the GIL at %s' % (n, w))
    # the holder, read a moment after the capture: another CPU-bound thread, or none said
    h = threads[tids[n]]['gil_holder']
    if h is not None and (h == tids[n] or h not in burners):
        errors.append('%s: the GIL held by %s, not another burn thread' % (n, h))
if ct['summary']['deadlocks'] != 1 or not ct['summary']['stuck']:
    errors.append('summary: %s' % ct['summary'])
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
