"""runbox's terminal for a run created with `tty`: starts the program on a pseudo-terminal inside
the sandbox, so that it sees a terminal (isatty, a size, line editing, Ctrl-C as SIGINT), and
relays between the terminal and the run's own streams.

Usage: python3 -I -S tty_run.py ROWS COLS -- PROGRAM [ARGS...]

- The run's stdin (what the client sends) goes to the terminal as typed: Ctrl-C (\\x03) is the
  terminal's interrupt, Ctrl-D (\\x04) its end of file. When the run's stdin closes, the terminal
  gets an end of file too.
- What the program writes to the terminal (stdout and stderr alike, as on any terminal) goes to
  the run's stdout.
- Descriptor 5, when open, carries the client's resizes: one JSON object a line,
  {"rows": R, "cols": C}; the kernel then sends the program SIGWINCH. The program is not given
  it, and as it runs as the same uid, this process makes itself non-dumpable (no
  /proc/<pid>/fd, no ptrace); the sandbox's seccomp filter denies pidfd_getfd, the other way to
  copy another process's descriptor.
- SIGINT and SIGTERM sent to this process go to the terminal's foreground process group.
- Exits with the program's status (128 + N for a program killed by signal N).
"""

import ctypes
import errno
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios

CONTROL_FD = 5
PR_SET_DUMPABLE = 4


def set_size(fd, rows, cols):
    rows = max(1, min(int(rows), 1000))
    cols = max(1, min(int(cols), 1000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def write_all(fd, data):
    while data:
        try:
            written = os.write(fd, data)
        except InterruptedError:
            continue
        data = data[written:]


def main():
    rows, cols, separator, *argv = sys.argv[1:]
    if separator != "--" or not argv:
        sys.exit("usage: tty_run.py ROWS COLS -- PROGRAM [ARGS...]")
    try:
        os.fstat(CONTROL_FD)
        control = CONTROL_FD
    except OSError:
        control = None
    # The program (same uid) may not read this process's descriptors or memory.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    pid, master = pty.fork()
    if pid == 0:
        if control is not None:
            os.close(control)
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            os.write(2, f"{argv[0]}: {error.strerror}\n".encode())
            os._exit(127)

    set_size(master, rows, cols)

    def forward(signum, _frame):
        try:
            os.killpg(os.tcgetpgrp(master), signum)
        except OSError:
            try:
                os.kill(pid, signum)
            except OSError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)

    readers = [0, master] + ([control] if control is not None else [])
    control_buffer = b""
    while master in readers:
        try:
            ready, _, _ = select.select(readers, [], [])
        except InterruptedError:
            continue
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as error:
                # EIO: every process holding the terminal's other side has gone.
                if error.errno != errno.EIO:
                    raise
                data = b""
            if data:
                write_all(1, data)
            else:
                readers.remove(master)
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                write_all(master, data)
            else:
                # The client closed the input: the terminal's end of file, for a program reading
                # at the start of a line (canonical mode reads ^D as end of file there).
                readers.remove(0)
                try:
                    write_all(master, b"\x04")
                except OSError:
                    pass
        if control is not None and control in ready:
            data = os.read(control, 4096)
            if not data:
                readers.remove(control)
            control_buffer += data
            while b"\n" in control_buffer:
                line, control_buffer = control_buffer.split(b"\n", 1)
                try:
                    size = json.loads(line)
                    set_size(master, size["rows"], size["cols"])
                except (ValueError, KeyError, TypeError, OSError):
                    pass

    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
