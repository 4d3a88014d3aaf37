"""Compares ctrace's Ruby frames (--backtraces --format json) with the interpreter's own view of its
stacks (Thread#backtrace_locations, written as JSON by tests/fixtures/rbthreads.rb on SIGUSR1).
Usage: rbcompare.py CTRACE_JSON DUMP_FILE IDS_FILE. Prints what differs and exits 1, or exits 0.
Every thread of IDS_FILE (found by its TID) must have the same labels, files and lines, innermost
first, merged into the native stack with no note. ctrace leaves out C-method frames (the native
frames name them), so Ruby's C methods of the fixture are left out of its view; the busy thread
("spinner") is compared by label and file only (its line moves between the dump and the capture)."""
import json
import sys

C_METHODS = {'sleep', 'pop', 'lock', 'times'}
ct = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[2]))
errors = []
threads = {t['tid']: t for t in ct['threads']}
for line in open(sys.argv[3]):
    name, tid = line.split()
    want = [tuple(w) for w in dump.get(name, []) if w[0] not in C_METHODS]
    t = threads.get(int(tid))
    if not want or t is None:
        errors.append('%s: missing (dump %s, ctrace %s)' % (name, bool(want), t is not None))
        continue
    if t['name'] != name:
        errors.append('%s: TID %s is named %s in ctrace' % (name, tid, t['name']))
    if t['interp_note']:
        errors.append('%s: %s' % (name, t['interp_note']))
    rb = [f for f in t['frames'] if f['lang'] == 'ruby']
    got = [(f['function'] or '??', f['file'], f['line']) for f in rb]
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
