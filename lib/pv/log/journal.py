"""pv-log's journal: after a SIGKILL, write each line once, not a piece twice.

In tee mode a piece of input is written to every directory, then consumed
from the pipe.  A kill between the two used to make the next pv-log write
the whole piece again.  The journal closes that window (pv-logdir(5)):

* before writing a piece, one pwrite(2) of a header (the first directory's
  ``journal`` file, one page): the pipe, for each directory its identity,
  current's inode, its size X before the piece and the bytes P the piece
  adds, the piece's input length L and the receipt offset S0;
* the consume splices the piece from stdin into the same file at S0, not
  into /dev/null: the kernel takes from the pipe only what the file took,
  in one system call, so the file's size says how much was consumed, even
  if the kill cut the splice short.
* "direct": when the first directory's lines are the input bytes as they
  are (no stamp, no -r, a plain config), the receipt is its ``current``
  itself: the splice from stdin into current is its write and the consume
  at once, S0 = X, and the piece costs no copy more than before.

The next pv-log reads it before its first piece (``recover``): part of the
piece consumed -> consume the rest; none consumed and every current at
X + P -> written but not consumed: consume L without writing; every current
within [X, X + P] -> the write was cut short: cut current back to X (those
bytes are still in the pipe) and write the piece once.  Anything else (no
header, another pipe, other directories, an inode or size that does not
fit) -> do as without a journal: write again, a repeat, never a loss.

The pump starts a piece only when no directory has to rotate inside it
(it cuts pieces at rotation points, pump.py); where it cannot, it spoils
the header before rotating, so that case falls back to a repeat.  The
receipt is cut back to one page when it passes LIMIT, so it costs page
cache, rarely disk.
"""

import binascii
import errno
import os
import struct

from pv.log.logdir import JOURNAL

HEADER = 4096               # the header page; the receipt starts after it
LIMIT = 1 << 20             # cut the receipt back once it passes this
MAGIC = b"pv-log journal 1\n"
_HEAD = struct.Struct("<17sQQQQII")     # magic, pipe dev, pipe ino, S0, L, flags, dirs
_DIR = struct.Struct("<QQQQQI")         # dir dev, dir ino, current's inode, X, P, midline at X
DIRECT = 1                              # flags: the receipt is dirs[0]'s current
_CRC = struct.Struct("<I")
MAX_DIRS = (HEADER - _HEAD.size - _CRC.size) // _DIR.size


def pack(pipe, start, length, flags, dirs):
    """The header bytes; ``dirs`` is [((dev, ino, inode), X, P, midline)]."""
    body = _HEAD.pack(MAGIC, pipe[0], pipe[1], start, length, flags, len(dirs))
    body += b"".join(_DIR.pack(i[0], i[1], i[2], x, p, m) for i, x, p, m in dirs)
    return body + _CRC.pack(binascii.crc32(body))


def unpack(data):
    """(pipe, S0, L, flags, dirs) from header bytes; None if not a valid header."""
    if len(data) < _HEAD.size or not data.startswith(MAGIC):
        return None
    magic, pdev, pino, start, length, flags, count = _HEAD.unpack_from(data)
    end = _HEAD.size + count * _DIR.size
    if count > MAX_DIRS or len(data) < end + _CRC.size:
        return None
    if _CRC.unpack_from(data, end)[0] != binascii.crc32(data[:end]):
        return None
    dirs = []
    for n in range(count):
        ddev, dino, inode, x, p, m = _DIR.unpack_from(data, _HEAD.size + n * _DIR.size)
        dirs.append(((ddev, dino, inode), x, p, bool(m)))
    return (pdev, pino), start, length, flags, dirs


class Journal:
    """The journal of one pv-log run; inactive (fd None) when it cannot be exact."""

    def __init__(self, fd=None, pipe=(0, 0)):
        self.fd = fd
        self.pipe = pipe
        self.next = None          # where the next piece's receipt goes (None: cut back first)
        self.piece = False        # a header names the piece being written
        if fd is not None and os.fstat(fd).st_size >= HEADER:
            self.next = os.fstat(fd).st_size

    @classmethod
    def open(cls, dirs, named, infd):
        """The journal in ``dirs[0]``, if every one of the ``named`` opened.

        With a directory missing, another run may have consumed input
        that the journal of a directory it did not write still describes:
        then no journal at all (a repeat after a kill, as before).
        """
        if len(dirs) != named or not dirs or len(dirs) > MAX_DIRS:
            return cls()
        try:
            # Never through a symlink (it would be truncated to a page), and
            # private: the receipt holds raw input, lines filtered out too.
            fd = os.open(JOURNAL, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                         0o600, dir_fd=dirs[0].dirfd)
        except OSError:
            return cls()
        try:
            os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            return cls()
        st = os.fstat(infd)
        return cls(fd, (st.st_dev, st.st_ino))

    def active(self):
        return self.fd is not None

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # -- one piece -------------------------------------------------------------
    def begin(self, dirs, length, direct=False):
        """Name the piece about to be written: ``dirs`` is [(LogDir, P)];
        ``direct``: it goes into dirs[0]'s current by splice (the receipt).
        True if the header is in place."""
        if self.fd is None:
            return False
        if self.next is None or not direct and self.next + length > LIMIT:
            # The receipt starts at HEADER: a shorter file would read as
            # "none consumed" of a piece that starts there.
            self.spoil()
            try:
                os.ftruncate(self.fd, HEADER)
            except OSError:
                return False
            self.next = HEADER
        entries = [(d.ident(), d.size, p, d.midline) for d, p in dirs]
        start = dirs[0][0].size if direct else self.next
        head = pack(self.pipe, start, length, DIRECT if direct else 0, entries)
        try:
            self.piece = os.pwrite(self.fd, head, 0) == len(head)
        except OSError:
            self.spoil()
        return self.piece

    def spoil(self):
        """The piece can no longer be recovered exactly: unname it."""
        self.piece = False
        if self.fd is None:
            return
        try:
            os.pwrite(self.fd, b"\0" * len(MAGIC), 0)    # in place: even on a full disk
        except OSError:
            try:
                os.ftruncate(self.fd, 0)
                self.next = None
            except OSError:
                pass

    def consume(self, source, count):
        """Take ``count`` written bytes from the input, with a receipt if a piece is named."""
        if not self.piece:
            source.consume(count)
            return
        self.piece = False
        self.next = self._splice(source, self.next, count)

    def _splice(self, source, off, count):
        end = off + count
        while off < end:
            try:
                off += source.splice_to(self.fd, end - off, off)
            except OSError as exc:
                # ENOSPC, EFBIG, EINVAL (a file system without splice):
                # unname the piece first, then consume without a receipt.
                self.spoil()
                source.consume(end - off)
                if exc.errno == errno.EINVAL:
                    self.close()
                break
        return off

    def _rest(self, source, fd, off, end):
        """Direct: the rest of the piece into current; on an error it stays
        in the pipe and is written again (the other directories, which hold
        the whole piece already, then hold it twice: a repeat, not a loss)."""
        while off < end:
            try:
                off += source.splice_to(fd, end - off, off)
            except OSError:
                self.spoil()
                break
        return off

    # -- after a kill ----------------------------------------------------------
    def recover(self, dirs, source):
        """Settle a piece the last pv-log left in flight; a word on what was done.

        None: nothing to settle exactly (the caller's tail mending stands).
        """
        if self.fd is None:
            return None
        head = unpack(os.pread(self.fd, HEADER, 0))
        if head is None or head[0] != self.pipe or len(head[4]) != len(dirs):
            return None
        _, start, length, flags, entries = head
        for d, (ident, x, p, _) in zip(dirs, entries):
            if d.ident() != ident or not x <= d.size <= x + p:
                return None
        direct = flags & DIRECT
        size = dirs[0].size if direct else os.fstat(self.fd).st_size
        done = size - start
        # Direct: dirs[0]'s current is the receipt; the others are written first.
        writers = zip(dirs[1:], entries[1:]) if direct else zip(dirs, entries)
        written = all(d.size == x + p for d, (_, x, p, _) in writers)
        if not 0 <= done < length or done and not written:
            return None
        if written:
            if direct:
                dirs[0].size = self._rest(source, dirs[0].fd, size, start + length)
            else:
                self.next = self._splice(source, size, length - done)
            for d, (_, x, p, midline) in zip(dirs, entries):
                d.settle(d.size, midline)
            return "consumed %d bytes written before a kill" % (length - done)
        for d, (_, x, p, midline) in zip(dirs, entries):
            d.settle(x, midline)
        return "cut current back to where a kill cut a piece short"
