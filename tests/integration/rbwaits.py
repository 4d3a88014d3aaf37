"""Checks ctrace's --threads of tests/fixtures/rbdeadlock.rb (--format json) against the fixture's own
view: its TIDs and Mutex addresses (IDS_FILE) and Thread#backtrace_locations of every thread (DUMP_FILE,
written from a SIGUSR1 trap). Usage: rbwaits.py CTRACE_JSON DUMP_FILE IDS_FILE. Prints what differs and
exits 1, or exits 0.
Each thread's wait ("why") must be the one the fixture set up (the reader's with the descriptor of
its pipe, as IO#fileno says, and what /proc says it is), with the line of its innermost Ruby
frame as Ruby reports it (the C methods it waits in are the innermost locations, on the caller's
line: Ruby's own label of each is checked too); the two Mutex#lock threads must form the one deadlock
cycle, each waiting for the Mutex the other holds. RBWAITS_CORE=1: the JSON is of a core, where what
a descriptor is cannot be known (no /proc): the IO wait names its descriptor only."""
import json
import os
import sys

# thread: (ctrace's name of the wait, Ruby's labels of the C methods it waits in, innermost first)
WAITS = {
    'dead-a': ('Thread::Mutex#lock', ['lock']),
    'dead-b': ('Thread::Mutex#lock', ['lock']),
    'popper': ('Thread::Queue#pop', ['pop']),
    'waiter': ('Thread::ConditionVariable#wait', ['sleep', 'wait']),
    'sleeper': ('Kernel#sleep', ['sleep']),
    'reader': ('IO', ['read']),
}
ct = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[2]))
tids, mutexes, fds = {}, {}, {}
for line in open(sys.argv[3]):
    w = line.split()
    if w[0] == 'mutex':
        mutexes[w[1]] = int(w[2], 16)
    elif w[0] == 'fd':
        fds[w[1]] = int(w[2])
        if os.environ.get('RBWAITS_CORE') != '1':
            fds['target'] = os.readlink(f"/proc/{ct['pid']}/fd/{w[2]}")
    else:
        tids[w[0]] = int(w[1])
errors = []
threads = {t['tid']: t for t in ct['threads']}
for name, (wait, cnames) in WAITS.items():
    t = threads.get(tids[name])
    locs = dump.get(name) or []
    if t is None or len(locs) <= len(cnames):
        errors.append(f'{name}: missing (ctrace {t is not None}, dump {locs})')
        continue
    labels = [l[0] for l in locs[:len(cnames)]]
    if labels != cnames:
        errors.append(f'{name}: the fixture is not where it should be: {locs}')
        continue
    label, path, line = locs[len(cnames)]
    where = f' in {label} ({os.path.basename(path)}:{line})'
    why = t.get('why') or ''
    if wait == 'Thread::Mutex#lock':
        other = mutexes['m2' if name == 'dead-a' else 'm1']
        mine = mutexes['m1' if name == 'dead-a' else 'm2']
        want = f'{wait} {other:#x}{where}'
        if t.get('lock_waiting') != f'{other:#x}' or t.get('locks_held') != [f'{mine:#x}']:
            errors.append(f"{name}: waits for {t.get('lock_waiting')}, holds {t.get('locks_held')}; "
                          f"the fixture: waits for {other:#x}, holds {mine:#x}")
        if t.get('wait') != 'mutex' or t.get('deadlock') is None:
            errors.append(f"{name}: wait {t.get('wait')}, deadlock {t.get('deadlock')}")
    elif wait == 'IO':
        want = f"IO fd {fds['reader']}" + (f" ({fds['target']})" if 'target' in fds else '') + where
    else:
        want = wait + where
    if why != want:
        errors.append(f'{name}: ctrace says "{why}", the fixture "{want}"')
dl = ct.get('deadlocks') or []
cycle = sorted(x['tid'] for x in dl[0]['threads']) if len(dl) == 1 else None
if cycle != sorted([tids['dead-a'], tids['dead-b']]):
    errors.append(f'deadlocks: {dl}')
elif sorted(int(x['waits_for_lock'], 16) for x in dl[0]['threads']) != sorted(mutexes.values()):
    errors.append(f'deadlock locks: {dl}, the fixture {mutexes}')
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
