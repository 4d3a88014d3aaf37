"""Compares ctrace's Ruby frames (--backtraces --format json) with the interpreter's own view of its
stacks (Thread#backtrace_locations, written as JSON by tests/fixtures/rbthreads.rb on SIGUSR1).
Usage: rbcompare.py CTRACE_JSON DUMP_FILE IDS_FILE. Prints what differs and exits 1, or exits 0.
Every thread of IDS_FILE (found by its TID) must have the same labels, files and lines, innermost
first, merged into the native stack with no note. C methods' frames are compared too: Ruby 3.1
labels them by method ("sleep"), ctrace by owner and method ("Kernel#sleep"), whose owner must be
the one Ruby gives (the dump's "(owners)"); both put them at their caller's file and line. The
busy thread ("spinner") is compared by label and file only (its line moves between the dump and
the capture). RBCOMPARE_NO_NAMES=1: the threads' names are not compared (a core has none but the
main thread's)."""
import json
import os
import re
import sys

ct = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[2]))
errors = []
threads = {t['tid']: t for t in ct['threads']}
for line in open(sys.argv[3]):
    name, tid = line.split()
    want = [tuple(w) for w in dump.get(name, [])]
    t = threads.get(int(tid))
    if not want or t is None:
        errors.append('%s: missing (dump %s, ctrace %s)' % (name, bool(want), t is not None))
        continue
    if t['name'] != name and os.environ.get('RBCOMPARE_NO_NAMES') != '1':
        errors.append('%s: TID %s is named %s in ctrace' % (name, tid, t['name']))
    if t['interp_note']:
        errors.append('%s: %s' % (name, t['interp_note']))
    rb = [f for f in t['frames'] if f['lang'] == 'ruby']
    got = []
    for f in rb:
        fn = f['function'] or '??'
        m = re.match(r'^([A-Z][\w:]*)([#.])(.+)$', fn)
        if m:  # a C method: owner#method
            owner = dump.get('(owners)', {}).get(m.group(3))
            if owner is not None and owner != m.group(1):
                errors.append('%s: %s is owned by %s in Ruby' % (name, fn, owner))
            fn = m.group(3)
        got.append((fn, f['file'], f['line']))
    if name == 'spinner':
        got = [g[:2] for g in got]
        want = [w[:2] for w in want]
    if got != want:
        errors.append('%s: ctrace %s\n    Ruby   %s' % (name, got, want))
    if rb and t['frames'][0]['lang'] == 'ruby' and name != 'spinner':
        errors.append('%s: a blocked thread whose innermost frame is Ruby: not merged' % name)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
