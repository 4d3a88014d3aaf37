# corepatch.py CORE ADDR HEX: overwrites the target memory at ADDR (hex) in an ELF core file with the
# bytes HEX, in the PT_LOAD segment that holds ADDR (a test's corrupt interpreter state). Exit 1
# when no segment of the core holds ADDR.
import struct
import sys

path, addr, data = sys.argv[1], int(sys.argv[2], 16), bytes.fromhex(sys.argv[3])
with open(path, "r+b") as f:
    h = f.read(64)
    phoff, = struct.unpack_from("<Q", h, 32)
    phentsize, phnum = struct.unpack_from("<HH", h, 54)
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        ptype, flags, off, vaddr, paddr, filesz = struct.unpack("<IIQQQQ", f.read(40))
        if ptype == 1 and vaddr <= addr < vaddr + filesz:
            f.seek(off + addr - vaddr)
            f.write(data)
            sys.exit(0)
sys.exit(1)
