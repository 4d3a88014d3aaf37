# Hides a dynamic symbol in a copy of an ELF file: its name in .dynstr is changed to another of the
# same GNU hash (the last two letters c1 c2 become c1+1, c2-33: h*33+c is unchanged), so no symbol
# of that name is left while the file's own relocations to it, looked up by the new name through
# .gnu.hash, still resolve. Refuses a file with a SysV .hash table (it would no longer match).
# Run objcopy --strip-all first for .symtab. For the tests of ctrace's fallbacks when a symbol is
# missing. Usage: python3 hidesym.py FILE SYMBOL
import subprocess
import sys

path, name = sys.argv[1], sys.argv[2].encode()
sections = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
if " .hash " in sections:
    sys.exit("%s has a SysV .hash table: renaming a symbol would break it" % path)
data = bytearray(open(path, "rb").read())
old = b"\0" + name + b"\0"
n = data.count(old)
if n != 1:
    sys.exit("%s: %d copies of %s in its string tables, want 1" % (path, n, name.decode()))
i = data.index(old) + len(name) - 1
if data[i] - 33 < 0x21:
    sys.exit("%s: cannot rename %s keeping its hash" % (path, name.decode()))
data[i - 1] += 1
data[i] -= 33
open(path, "wb").write(data)
