#!/usr/bin/env python3
"""moddeps.py MODULE_DIR NAME...

Prints, one per line and relative to MODULE_DIR (a lib/modules/<release> tree), the .ko files
to insmod for the named modules, dependencies first. The package ships no modules.dep (depmod
runs at install time) and the host may have no kmod, so dependencies are read from each
module's .modinfo section ("depends=a,b"). Modules built into the kernel (modules.builtin)
are left out; unknown names are an error.
"""
import os
import struct
import sys


def norm(name):
    return name.replace("-", "_")


def modinfo(path):
    """Returns the key=value strings of the .modinfo section of an ELF64 little-endian .ko."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            return [s.decode(errors="replace") for s in data[off:off + size].split(b"\0") if s]
    return []


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, wanted = sys.argv[1], sys.argv[2:]
    index = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".ko"):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                index[norm(f[:-3])] = rel
    builtin = set()
    try:
        with open(os.path.join(root, "modules.builtin")) as f:
            builtin = {norm(os.path.basename(l.strip())[:-3]) for l in f if l.strip()}
    except OSError:
        pass

    order, state = [], {}

    def visit(name, chain):
        name = norm(name)
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            sys.exit("module dependency cycle: " + " -> ".join(chain + [name]))
        if name in builtin and name not in index:
            print(f"moddeps: {name} is built into the kernel", file=sys.stderr)
            state[name] = "done"
            return
        if name not in index:
            sys.exit(f"moddeps: no module {name} under {root}" +
                     (f" (needed by {chain[-1]})" if chain else ""))
        state[name] = "visiting"
        for kv in modinfo(os.path.join(root, index[name])):
            if kv.startswith("depends="):
                for dep in filter(None, kv[len("depends="):].split(",")):
                    visit(dep, chain + [name])
        state[name] = "done"
        order.append(index[name])

    for w in wanted:
        visit(w, [])
    print("\n".join(order))


if __name__ == "__main__":
    main()
