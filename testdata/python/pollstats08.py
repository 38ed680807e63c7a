#!/usr/bin/env python3
# A port to Python 3 of pollstats from Python mmstats 0.8.0
# (https://github.com/schmichael/mmstats, mmstats/pollstats.py), FOR TESTS
# ONLY: it checks that the Go writer's files do not crash the original
# reader, which maps each file once at its size and walks the fields with
# `while m[m.tell()] != '\x00'`. The changes are the minimum Python 3
# needs, each marked "port:": print(), bytes instead of str, items()/
# keys()/values()/range, and the two constants it imported from
# mmstats.reader. Its logic is unchanged.
#
# The original's license:
#
# Copyright (c) 2011 by Michael Schurter.
#
# Some rights reserved.
#
# Redistribution and use in source and binary forms of the software as well
# as documentation, with or without modification, are permitted provided
# that the following conditions are met:
#
# * Redistributions of source code must retain the above copyright
#   notice, this list of conditions and the following disclaimer.
#
# * Redistributions in binary form must reproduce the above
#   copyright notice, this list of conditions and the following
#   disclaimer in the documentation and/or other materials provided
#   with the distribution.
#
# * The names of the contributors may not be used to endorse or
#   promote products derived from this software without specific
#   prior written permission.
#
# THIS SOFTWARE AND DOCUMENTATION IS PROVIDED BY THE COPYRIGHT HOLDERS AND
# CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT
# NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
# A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER
# OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
# EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO,
# PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR
# PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF
# LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
# NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
# SOFTWARE AND DOCUMENTATION, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH
# DAMAGE.

"""pollstats - vmstat/dstat like CLI for mmstats

pollstats [options] <fields> <files>...
"""
import argparse
import collections
import mmap
import os
import struct
import sys
import time



class reader(object):  # port: the constants of mmstats.reader
    VERSION_1 = 1  # port: '\x01' in Python 2, an int from read_byte() in 3
    UNBUFFERED_FIELD = 255


VERSION = '0.8.0'  # port: was pkg_resources.require('mmstats')[0].version
WARN_LEVEL = 1
INFO_LEVEL = 2
DEBUG_LEVEL = 3

ansi = {
    'black': '\033[0;30m',
    'darkred': '\033[0;31m',
    'darkgreen': '\033[0;32m',
    'darkyellow': '\033[0;33m',
    'darkblue': '\033[0;34m',
    'darkmagenta': '\033[0;35m',
    'darkcyan': '\033[0;36m',
    'gray': '\033[0;37m',

    'darkgray': '\033[1;30m',
    'red': '\033[1;31m',
    'green': '\033[1;32m',
    'yellow': '\033[1;33m',
    'blue': '\033[1;34m',
    'magenta': '\033[1;35m',
    'cyan': '\033[1;36m',
    'white': '\033[1;37m',

    'blackbg': '\033[40m',
    'redbg': '\033[41m',
    'greenbg': '\033[42m',
    'yellowbg': '\033[43m',
    'bluebg': '\033[44m',
    'magentabg': '\033[45m',
    'cyanbg': '\033[46m',
    'whitebg': '\033[47m',

    'reset': '\033[0;0m',
    'bold': '\033[1m',
    'reverse': '\033[2m',
    'underline': '\033[4m',

    'clear': '\033[2J',
#   'clearline': '\033[K',
    'clearline': '\033[2K',
#   'save': '\033[s',
#   'restore': '\033[u',
    'save': '\0337',
    'restore': '\0338',
    'linewrap': '\033[7h',
    'nolinewrap': '\033[7l',

    'up': '\033[1A',
    'down': '\033[1B',
    'right': '\033[1C',
    'left': '\033[1D',

    'default': '\033[0;0m',
}


opts = argparse.ArgumentParser()
opts.add_argument('-c', '--count', type=int)
opts.add_argument('-d', '--delay', type=int, default=1)
opts.add_argument('-f', '--filter', nargs='*', default=[])
opts.add_argument('-n', '--headers', default=20, type=int,
        help='print headers every HEADERS lines')
opts.add_argument('-p', '--prefix', default='', help='field prefix')
opts.add_argument('fields', help='Comma seperated list of fields')
opts.add_argument('files', nargs='+')
opts.add_argument('-v', action='append_const', const=1, dest='verbosity',
        default=[], help='verbosity: warnings=1, info=2, debug=3')
opts.add_argument('--version', action='version',
        version='%%(prog)s %s' % VERSION)


def get_console_size():
    """Returns rows, columns for current console"""
    #FIXME Only tested on linux
    return map(int, os.popen('stty size', 'r').read().split())


def iter_stats(m):
    """Yields label, value pairs for the given mmstats map"""
    # Hop to the beginning
    m.seek(1)
    while m[m.tell()] != 0:  # port: != '\x00' (m[i] is an int in Python 3)
        label_sz = struct.unpack('H', m.read(2))[0]
        label = m.read(label_sz).decode()  # port: bytes to str
        type_sz = struct.unpack('H', m.read(2))[0]
        type_ = m.read(type_sz)
        sz = struct.calcsize(type_)
        idx = m.read_byte()  # port: was struct.unpack('B', m.read_byte())[0]
        if idx == reader.UNBUFFERED_FIELD:
            value = struct.unpack(type_, m.read(sz))[0]
        else:
            idx ^= 1 # Flip bit as the stored buffer is the *write* buffer
            buffers = m.read(sz * 2)
            offset = sz * idx
            value = struct.unpack(type_, buffers[offset:sz+offset])[0]
        yield label, value


Mmap = collections.namedtuple('Mmap', ('file', 'mmap'))


class PollStats(object):
    def __init__(self, args):
        self.args = args
        self.verbosity = len(self.args.verbosity)
        self.fields = args.fields.split(',')
        self.prefix = args.prefix
        if args.prefix:
            self.fields = ["%s%s" % (args.prefix, field)
                    for field in self.fields]
        self.last_vals = dict((field, 0) for field in self.fields)
        self.files = {}
        self._mmap_files()

        # By default filter down to just files that have the given fields
        self.key_filters = set(self.fields)
        self.kv_filters = set()
        for filterstr in args.filter:
            if '=' in filterstr:
                # Filter on exact key-value pairs
                self.kv_filters.add(filterstr.split('='))
            else:
                # Filter on presence of keys
                self.key_filters.add(filterstr)

        self._filter_mmaps()
        self.print_headers()

    def _mmap_files(self):
        for fn in set(self.args.files):
            try:
                f = open(fn, 'rb')
                m = mmap.mmap(f.fileno(), 0, prot=mmap.ACCESS_READ)
            except Exception:
                self.warn('Skipping %s - unable to open' % fn)
                continue

            if m.read_byte() == reader.VERSION_1:
                self.files[fn] = Mmap(f, m)
            else:
                m.close()
                f.close()
                self.warn('Skipping %s - unknown file format' % fn)

    def _filter_mmaps(self):
        for fn, (f, m) in list(self.files.items()):  # port: list()
            # By default remove files that don't match filters
            remove = True
            fields = dict(pair for pair in iter_stats(m))
            for kf in self.key_filters:
                for k in fields.keys():  # port: was iterkeys()
                    # Key filters match the start of the key name
                    if k.startswith(kf):
                        remove = False
                        break
                if not remove:
                    break

            if not remove:
                # Matched key filter, don't remove and continue on
                continue

            # Didn't remove file, check kv_filters
            for kf, vf in self.kv_filters:
                if kf in fields and fields[kf] == vf:
                    remove = False
                    break

            if remove:
                # fn didn't match key filter or key/value filter, remove
                self.remove_file(fn)

    def remove_file(self, fn):
        """Remove file `fn` from open mmstat files"""
        m = self.files[fn]
        m.file.close()
        m.mmap.close()
        del self.files[fn]

    def dbg(self, msg):
        if self.verbosity >= DEBUG_LEVEL:
            print(msg, file=sys.stderr)  # port: print()

    def warn(self, msg):
        if self.verbosity >= WARN_LEVEL:
            print(msg, file=sys.stderr)  # port: print()

    def print_headers(self):
        #_, width = get_console_size()
        #field_width = (width / len(self.fields)) - 1
        width = 20
        print('|'.join(  # port: print()
            ansi['bold'] +
                f.replace(self.prefix, '', 1)[:width].center(width)
                + ansi['default']
            for f in self.fields
        ))

    def read_once(self):
        cur_vals = collections.defaultdict(int)
        for _, m in self.files.values():  # port: was itervalues()
            mvals = dict(pair for pair in iter_stats(m))
            for field in self.fields:
                cur_vals[field] += mvals[field]

        print('|'.join("%s%19d%s " % (ansi['yellow'],  # port: print()
                cur_vals[field] - self.last_vals[field], ansi['default'])
            for field in self.fields))
        self.last_vals = cur_vals

    def run(self):
        if self.args.count:
            for _ in range(self.args.count):  # port: was xrange
                self.read_once()
                time.sleep(self.args.delay)
        else:
            lines_since_header = 0
            while 1:
                if lines_since_header == self.args.headers:
                    self.print_headers()
                    lines_since_header = 0
                self.read_once()
                lines_since_header += 1
                time.sleep(self.args.delay)


def main():
    """CLI Entry Point"""
    p = PollStats(opts.parse_args())
    try:
        p.run()
    except KeyboardInterrupt:
        return

if __name__ == '__main__':
    main()
