"""Compares ctrace's Python frames (--backtraces --format json) with the interpreter's own view of
its stacks (faulthandler.dump_traceback(all_threads=True), written by tests/fixtures/pythreads.py on
SIGUSR1). Usage: pycompare.py CTRACE_JSON DUMP_FILE IDS_FILE MINOR. Prints what differs and exits
1, or exits 0. Every thread of IDS_FILE must have the same functions, files and lines, innermost
first, merged into the native stack with no note; the busy thread ("spinner") only the same
functions and files (its line moves between the dump and the capture)."""
import json
import re
import sys

ct = json.load(open(sys.argv[1]))
minor = int(sys.argv[4])
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
errors = []
threads = {t['tid']: t for t in ct['threads']}
for line in open(sys.argv[3]):
    name, ident, tid = line.split()
    want = dump.get(int(ident))
    t = threads.get(int(tid))
    if want is None or t is None:
        errors.append('%s: missing (dump %s, ctrace %s)' % (name, want is not None, t is not None))
        continue
    if t['interp_note']:
        errors.append('%s: %s' % (name, t['interp_note']))
    py = [f for f in t['frames'] if f['lang'] == 'python']
    got = [((f['function'] or '??').split('.')[-1], f['file'], f['line']) for f in py]
    if name == 'spinner':
        got = [g[:2] for g in got]
        want = [w[:2] for w in want]
    if got != want:
        errors.append('%s: ctrace %s\n    faulthandler %s' % (name, got, want))
    if py and t['frames'][0]['lang'] == 'python' and name != 'spinner':
        errors.append('%s: a blocked thread whose innermost frame is Python: not merged' % name)
    if name == 'locked' and minor >= 11 and not any(f['function'] == 'Handler.handle_request' for f in py):
        errors.append('locked: no qualified name Handler.handle_request')
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
