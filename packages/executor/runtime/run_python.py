"""runbox's Python runner: runs a snippet like `python3 main.py`, and hands back the value of its
last expression, like a notebook cell.

Usage: python3 -B run_python.py RESULT_PATH USER_FILE [ARGS...]
       python3 -B run_python.py --warm

--warm: started ahead of demand (a warm sandbox), with the interpreter and this runner loaded, it
waits for its arguments on stdin: a 4-byte big-endian length, then that many bytes of a JSON
array of strings (RESULT_PATH, USER_FILE, ARGS...). Read with os.read, byte-exact, so the rest of
stdin is the program's. Before it waits, it writes one byte to descriptor 5 (when open) and
closes it: the sandbox is ready.

The snippet runs as `__main__` with sys.argv[0] set to USER_FILE and sys.path[0] to its
directory. If its last statement is an expression whose value is not None, that value is written
as JSON to RESULT_PATH, unless the snippet has already written that file itself. A value that
json cannot encode is written as the JSON string of its repr(). Tracebacks show the snippet's
frames only, never this runner's.
"""

import __future__
import ast
import builtins
import json
import os
import sys
import types

RUNNER_FILE = os.path.abspath(__file__)
FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


def user_traceback(tb):
    """Drops this runner's frames from the top of a traceback."""
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == RUNNER_FILE:
        tb = tb.tb_next
    return tb


def report_and_exit(error):
    """What Python itself does with an uncaught exception: the excepthook prints it, exit 1."""
    trimmed = user_traceback(error.__traceback__)
    error.__traceback__ = trimmed
    sys.excepthook(type(error), error, trimmed)
    sys.exit(1)


def write_result(result_path, value):
    if os.path.lexists(result_path):
        return
    try:
        text = json.dumps(value, default=repr, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(repr(value))
    try:
        os.makedirs(os.path.dirname(result_path), exist_ok=True)
        # "x": never replaces what stands there, and never follows a link planted there.
        with open(result_path, "x", encoding="utf-8") as result_file:
            result_file.write(text)
    except OSError as error:
        print(f"runbox: could not write the result: {error}", file=sys.stderr)


def read_exactly(count):
    data = b""
    while len(data) < count:
        chunk = os.read(0, count - len(data))
        if not chunk:
            sys.exit(0)  # the sandbox was discarded before it was given a run
        data += chunk
    return data


def signal_ready():
    """One byte on descriptor 5 says loaded and waiting; closed before any run's code exists."""
    try:
        os.write(5, b"R")
        os.close(5)
    except OSError:
        pass


def await_arguments():
    signal_ready()
    length = int.from_bytes(read_exactly(4), "big")
    if length > 65536:
        print("runbox: the warm runner's arguments are too long", file=sys.stderr)
        sys.exit(2)
    arguments = json.loads(read_exactly(length).decode("utf-8"))
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        print("runbox: the warm runner's arguments are not a list of strings", file=sys.stderr)
        sys.exit(2)
    return arguments


def main():
    if sys.argv[1:] == ["--warm"]:
        sys.argv = [sys.argv[0], *await_arguments()]
    if len(sys.argv) < 3:
        print("usage: run_python.py RESULT_PATH USER_FILE [ARGS...]", file=sys.stderr)
        sys.exit(2)
    result_path = sys.argv[1]
    user_file = os.path.abspath(sys.argv[2])
    sys.argv = [user_file, *sys.argv[3:]]
    sys.path[0] = os.path.dirname(user_file)
    try:
        os.makedirs(os.path.dirname(result_path), exist_ok=True)
    except OSError:
        pass

    with open(user_file, "rb") as source_file:
        source = source_file.read()

    # The runner's own module stays referenced while the snippet takes the name __main__.
    runner_module = sys.modules["__main__"]  # noqa: F841
    main_module = types.ModuleType("__main__")
    main_module.__file__ = user_file
    main_module.__builtins__ = builtins
    main_module.__cached__ = None
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__

    try:
        tree = ast.parse(source, filename=user_file)
    except SyntaxError as error:
        # Python prints a syntax error without a traceback.
        error.__traceback__ = None
        report_and_exit(error)
    main_module.__doc__ = ast.get_docstring(tree)

    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)

    try:
        body = compile(tree, user_file, "exec", dont_inherit=True)
        last_code = (
            compile(last, user_file, "eval", flags=body.co_flags & FUTURE_FLAGS, dont_inherit=True)
            if last is not None
            else None
        )
    except SyntaxError as error:
        error.__traceback__ = None
        report_and_exit(error)

    try:
        exec(body, namespace)
        value = eval(last_code, namespace) if last_code is not None else None
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - everything the snippet raises is reported
        report_and_exit(error)

    if value is not None:
        write_result(result_path, value)


main()
