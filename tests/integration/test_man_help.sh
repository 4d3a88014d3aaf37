# ctrace --help and man/ctrace.1 agree: every long option of one is in the other, short and long
# forms are paired the same way, and the SYNOPSIS lists the same modes and options as the usage
# lines. Both are parsed now, so options added later are checked without editing this test.
. "$TOP/tests/integration/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
expect_exit 0 "$CTRACE" --help
printf '%s\n' "$OUT" >"$TMP/help.txt"
python3 - "$TMP/help.txt" "$TOP/man/ctrace.1" <<'PY' || exit 1
import re, sys
help_text = open(sys.argv[1]).read()
man = open(sys.argv[2]).read()
bad = []

def roff_plain(line):
    """One roff source line as the words it prints: no macro name, escapes or quoting."""
    line = re.sub(r'^\.[A-Z]{1,2}\s?', '', line)
    line = re.sub(r'\\f[BIRP]', '', line)
    line = line.replace('\\-', '-').replace('\\&', '').replace('\\(->', '->')
    return line.replace('"', ' ')

def sections(src):
    out, name = {}, None
    for l in src.splitlines():
        m = re.match(r'^\.SH\s+"?([^"]*)"?', l)
        if m:
            name = m.group(1).strip()
            out[name] = []
        elif name:
            out[name].append(l)
    return out

OPT = r'(?<![\w-])(--?[A-Za-z][a-z0-9-]*)'
sec = sections(man)
for need in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'OUTPUT FORMATS', 'EXIT STATUS',
             'ENVIRONMENT', 'PERMISSIONS', 'EXAMPLES', 'SEE ALSO'):
    if need not in sec:
        bad.append('man page has no %s section' % need)

# --help: usage lines (one per mode, continuation lines indented deeper) and option lines.
usage, opts_help, pairs_help = [], set(), set()
in_usage = False
for l in help_text.splitlines():
    if l.startswith('Usage: ctrace') or (in_usage and re.match(r'^ {7}ctrace\b', l)):
        in_usage = True
        usage.append(l.split('ctrace', 1)[1])
        continue
    if in_usage and re.match(r'^ {8,}\S', l):
        usage[-1] += ' ' + l.strip()
        continue
    in_usage = False
    m = re.match(r'^  (-[A-Za-z0-9]), (--[a-z0-9-]+)', l)
    if m:
        pairs_help.add((m.group(1), m.group(2)))
    m = re.match(r'^  (?:-[A-Za-z0-9], )?\s*(--[a-z0-9-]+)', l)
    if m:
        opts_help.add(m.group(1))
for u in usage:
    opts_help.update(o for o in re.findall(OPT, u) if o.startswith('--'))
if not usage or not opts_help:
    bad.append('could not parse ctrace --help')

# Man page: options are the tags of OPTIONS (and of any "... OPTIONS" section, e.g. MEMORY OPTIONS)
# plus everything in SYNOPSIS.
tags = []
for name, lines in sec.items():
    if not (name == 'OPTIONS' or name.endswith(' OPTIONS')):
        continue
    for i, l in enumerate(lines):
        if l.startswith('.TP') and i + 1 < len(lines):
            tags.append(roff_plain(lines[i + 1]))
opts_man, pairs_man = set(), set()
for t in tags:
    found = re.findall(OPT, t)
    opts_man.update(o for o in found if o.startswith('--'))
    shorts = [o for o in found if not o.startswith('--')]
    longs = [o for o in found if o.startswith('--')]
    if shorts and longs:
        pairs_man.add((shorts[0], longs[0]))
syn = [[]]
for l in sec.get('SYNOPSIS', []):
    if l.strip() == '.br':
        syn.append([])
    else:
        syn[-1].append(roff_plain(l))
syn = [' '.join(s) for s in syn if s]
for s in syn:
    opts_man.update(o for o in re.findall(OPT, s) if o.startswith('--'))

for o in sorted(opts_help - opts_man):
    bad.append('%s is in ctrace --help but not in the man page (an OPTIONS section or SYNOPSIS)' % o)
for o in sorted(opts_man - opts_help):
    bad.append('%s is in the man page but not in ctrace --help' % o)
for p in sorted(pairs_help - pairs_man):
    bad.append('--help pairs %s with %s; the man page OPTIONS does not' % p)
for p in sorted(pairs_man - pairs_help):
    bad.append('the man page pairs %s with %s; --help does not' % p)

# SYNOPSIS against the usage lines: the same modes (in any order), each with the same options.
def shape(line):
    words = re.findall(OPT + r'|\b(analyze|merge)\b', line)
    return [a or b for a, b in words]
su, ss = [shape(u) for u in usage], [shape(s) for s in syn]
if sorted(su) != sorted(ss):
    bad.append('SYNOPSIS and --help usage differ:\n  --help:   %s\n  SYNOPSIS: %s' % (su, ss))
for b in bad:
    print('FAIL: ' + b)
print("%d long options, %d usage lines checked: %s" % (len(opts_help), len(usage), su))
sys.exit(1 if bad else 0)
PY
ver=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
grep -q "^\.TH CTRACE 1 .*\"ctrace $ver\"" "$TOP/man/ctrace.1" || fail "man page .TH does not say ctrace $ver"
if command -v mandoc >/dev/null; then
	mandoc -Tlint -Wwarning "$TOP/man/ctrace.1" >"$TMP/lint" 2>&1 || fail "mandoc -Tlint: $(cat "$TMP/lint")"
	[ -s "$TMP/lint" ] && fail "mandoc -Tlint -Wwarning: $(cat "$TMP/lint")"
	echo "help and man page agree; mandoc -Tlint clean"
else
	skip_case "mandoc -Tlint" "mandoc is not installed to lint the page (make deps)"
	echo "help and man page agree"
fi
