"""runbox's long-lived syntax checker for Python and Bash: checks snippets, never runs them.

Usage: python3 -I -S -B -W ignore syntax_checker.py python|bash FILE

Started inside the sandbox, like every run, and kept for many checks. Each request on stdin is
`LENGTH\\n` then LENGTH bytes of source; each reply on stdout is `STATUS LENGTH\\n` then LENGTH
bytes: the exit status and the stderr of the one-shot check (syntax-check-argv.ts) for the same
source, so both are read the same way; `STATUS LENGTH last\\n` marks the last reply before this
process ends. FILE is the name the one-shot check gives the snippet. The first reply, `0 0`,
comes unasked: the checker has started.

- python: PYTHON_CHECK of syntax-check-argv.ts, in this process: compile() with dont_inherit=True
  takes no flags from this file, and warnings are ignored as `-W ignore` ignores them there. Any
  exception other than a syntax error (RecursionError, MemoryError) ends this process after its
  reply (its last), so an interpreter in a doubtful state never answers again.
- bash: the source is written to FILE and `bash -n FILE` runs, the very command of the one-shot
  check, in a fresh bash each time. A fork per check, but no sandbox per check; this loop is
  Python because a shell cannot read a length-prefixed request from a pipe without a fork more.
"""

import subprocess
import sys
import traceback


def read_exactly(stream, size):
    chunks = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)


def check_python(path, source):
    """(status, stderr bytes, fatal) as PYTHON_CHECK gives them; fatal: this process must end."""
    try:
        compile(source, path, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, 'lineno', None)
        where = ' line %d:' % line if line else ''
        detail = getattr(error, 'msg', None) or str(error)
        text = '%s:%s %s: %s\n' % (path, where, type(error).__name__, detail)
        return 1, text.encode('utf-8', 'backslashreplace'), False
    except Exception as error:  # noqa: BLE001 - uncaught there, a traceback
        text = 'Traceback (most recent call last):\n' + ''.join(
            traceback.format_exception_only(type(error), error)
        )
        return 1, text.encode('utf-8', 'backslashreplace'), True
    return 0, b'', False


def check_bash(path, source):
    with open(path, 'wb') as script:
        script.write(source)
    done = subprocess.run(
        ['bash', '-n', path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    # A shell reports a death by signal N as 128 + N, as the one-shot check's does.
    status = done.returncode if done.returncode >= 0 else 128 - done.returncode
    return status, done.stderr, False


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('python', 'bash'):
        sys.stderr.write('usage: syntax_checker.py python|bash FILE\n')
        sys.exit(2)
    check = check_python if sys.argv[1] == 'python' else check_bash
    path = sys.argv[2]
    requests = sys.stdin.buffer
    replies = sys.stdout.buffer
    # The greeting: an empty reply says this checker has started and waits for requests.
    replies.write(b'0 0\n')
    replies.flush()
    while True:
        header = requests.readline(32)
        if not header:
            return
        if not header.endswith(b'\n') or not header[:-1].isdigit():
            sys.stderr.write('syntax_checker: bad request header\n')
            sys.exit(2)
        source = read_exactly(requests, int(header))
        if source is None:
            sys.stderr.write('syntax_checker: request cut short\n')
            sys.exit(2)
        status, text, fatal = check(path, source)
        replies.write(b'%d %d%s\n' % (status, len(text), b' last' if fatal else b''))
        replies.write(text)
        replies.flush()
        if fatal:
            sys.exit(0)


main()
