#!/usr/bin/env python3
"""An independent reader of mmstats format v1, for the end-to-end tests.

It is written from the format description (shared/FORMAT-v1.md) only, with
Python's struct module, so that it checks the Go reader rather than copying
it. Usage:

    python3 v1reader.py FILE...

It prints the JSON that `slurpstats --json` prints: an array with one object
per file, in the order given,

    {"path": str, "stats": [{"label": str, "type": str, "value": ...}]}

or {"path": str, "error": str} for a file it cannot read (also printed on
stderr; the exit status is then 1).
"""

import json
import math
import struct
import sys

VERSION_1 = 1
UNBUFFERED = 0xFF
STRUCT_SPACE = b" \t\n\v\f\r"  # the bytes Python's struct module skips


class FormatError(Exception):
    pass


def cut_nul(raw):
    """A NUL-padded string: cut at the first NUL, decode UTF-8."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "ignore")


def json_value(value):
    """The JSON form of one unpacked value."""
    if isinstance(value, bytes):
        return cut_nul(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
    return value


def read_stats(data):
    """Parse a v1 file held in data; return its stats in file order."""
    if not data:
        raise FormatError("empty file")
    if data[0] != VERSION_1:
        raise FormatError("version byte is 0x%02x" % data[0])
    stats = []
    off = 1
    while off < len(data):
        if off + 2 > len(data):
            if data[off] == 0:
                break
            raise FormatError("label size runs past the end at %d" % off)
        (label_sz,) = struct.unpack_from("H", data, off)
        if label_sz == 0:
            break  # the zero padding after the last field
        off += 2
        if off + label_sz + 2 > len(data):
            raise FormatError("label runs past the end at %d" % off)
        label = data[off:off + label_sz].decode("utf-8", "ignore")
        off += label_sz
        (type_sz,) = struct.unpack_from("H", data, off)
        off += 2
        if off + type_sz + 1 > len(data):
            raise FormatError("type of %r runs past the end" % label)
        raw_type = bytes(data[off:off + type_sz])
        off += type_sz
        try:
            fmt = raw_type.decode("ascii")
            size = struct.calcsize(fmt)
        except (UnicodeDecodeError, struct.error) as e:
            raise FormatError("bad type %r of %r: %s" % (raw_type, label, e))
        write_buffer = data[off]
        off += 1
        if write_buffer == UNBUFFERED:
            start, end = off, off + size
        elif write_buffer in (0, 1):
            # The writer writes buffers[write_buffer]; the other is current.
            start = off + (write_buffer ^ 1) * size
            end = off + 2 * size
        else:
            raise FormatError("bad write buffer 0x%02x of %r" % (write_buffer, label))
        if end > len(data):
            raise FormatError("value of %r runs past the end" % label)
        values = struct.unpack_from(fmt, data, start)
        if len(values) != 1:
            raise FormatError("type %r of %r has %d values" % (fmt, label, len(values)))
        typ = bytes(c for c in raw_type if c not in STRUCT_SPACE).decode("ascii")
        stats.append({"label": label, "type": typ, "value": json_value(values[0])})
        off = end
    return stats


def main(paths):
    out, status = [], 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
            out.append({"path": path, "stats": read_stats(data)})
        except (OSError, FormatError) as e:
            msg = "%s: %s" % (path, e.strerror if isinstance(e, OSError) else e)
            sys.stderr.write("v1reader: %s\n" % msg)
            out.append({"path": path, "error": msg})
            status = 1
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
