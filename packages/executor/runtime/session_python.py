"""runbox's Python session kernel: one interpreter that runs a session's cells one after the
other in one namespace, so that what a cell defines, later cells use (a notebook's kernel).

Usage: python3 -B session_python.py

Channels (packages/executor/src/sessions/kernel-frames.ts is the host's side):
- Requests come on stdin, replies go to descriptor 5. Both are frames: a 4-byte big-endian length,
  then that many bytes of UTF-8 JSON. At start the kernel takes both for itself (duplicates them
  and puts /dev/null on stdin, so a cell's input() meets end of file and never eats a request),
  writes one byte "R" on the reply channel (the sandbox is ready), then answers requests in order.
- A cell's stdout and stderr are the process's own (live, unbuffered). When the cell ends, the
  kernel writes the cell's fence (a string the host chose for that cell, between NUL bytes) on
  both, then replies: everything before the fence on a stream is the cell's.

Requests ({"op": ..., "id": ...}) and replies:
- cell {code, fence, resultPath}: runs the code as a notebook cell. If its last statement is an
  expression whose value is not None, that value is written as JSON to resultPath, as
  run_python.py does. Reply: {status: ok|error|exit|interrupted, exitCode, snapshot}.
  A traceback (this kernel's frames left out) goes to stderr. SystemExit ends the cell, not the
  kernel. SIGINT while a cell runs raises KeyboardInterrupt in it; between cells it is ignored.
- variables: {variables: [{name, type, repr}]}. The repr is made here, never by a cell's own
  __repr__ (no code of the session runs to describe it), and is short.
- set {name, value}: binds name to the JSON value.
- restore {values, modules}: binds the values and imports the modules of a snapshot; replies
  {restored: [names], failed: [{name, type, reason}]}.
A snapshot is {values: {name: JSON value}, modules: {name: module name}, lost: [{name, type,
reason}]}: every variable whose value survives a JSON round trip exactly (plain dict with string
keys, list, str, int, finite float, bool, None), within the byte budget; modules by name; the
rest named in `lost`.
"""

import ast
import json
import keyword
import linecache
import os
import signal
import sys
import traceback
import types

KERNEL_FILE = os.path.abspath(__file__)
MAX_FRAME = 16 * 1024 * 1024
REPR_MAX = 120
SNAPSHOT_MAX_BYTES = int(os.environ.get("RUNBOX_SESSION_SNAPSHOT_MAX_BYTES", str(1024 * 1024)))
PLAIN_SCALARS = (str, int, float, bool, type(None))
# Names listed at most: a session of a million variables must not make a reply of gigabytes.
MAX_LISTED = 1000

busy = False


def on_sigint(_signum, _frame):
    # Only a cell (or a request the host waits on) is interrupted; the loop itself never is.
    if busy:
        raise KeyboardInterrupt


class Channel:
    def __init__(self):
        self.reader = os.dup(0)
        self.writer = os.dup(5)
        os.close(5)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)

    def ready(self):
        os.write(self.writer, b"R")

    def read_exactly(self, count):
        data = b""
        while len(data) < count:
            chunk = os.read(self.reader, count - len(data))
            if not chunk:
                sys.exit(0)  # the host closed the session
            data += chunk
        return data

    def receive(self):
        length = int.from_bytes(self.read_exactly(4), "big")
        if length > MAX_FRAME:
            sys.exit(3)
        return json.loads(self.read_exactly(length).decode("utf-8"))

    def send(self, message):
        data = json.dumps(message, ensure_ascii=True, allow_nan=False).encode("utf-8")
        frame = len(data).to_bytes(4, "big") + data
        view = memoryview(frame)
        while view:
            written = os.write(self.writer, view)
            view = view[written:]


def user_traceback(tb):
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == KERNEL_FILE:
        tb = tb.tb_next
    return tb


def print_error(error):
    trimmed = user_traceback(error.__traceback__)
    try:
        report = traceback.TracebackException(type(error), error, trimmed)
        # The SIGINT handler's own frame ends an interrupted cell's stack: not the cell's.
        report.stack = traceback.StackSummary.from_list(
            [frame for frame in report.stack if os.path.abspath(frame.filename) != KERNEL_FILE]
        )
        sys.stderr.write("".join(report.format()))
    except Exception:  # noqa: BLE001 - a broken exception still ends the cell
        print(f"{type(error).__name__}", file=sys.stderr)
    sys.stderr.flush()


def write_result(result_path, value):
    try:
        text = json.dumps(value, default=repr, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(short_repr(value))
    try:
        os.makedirs(os.path.dirname(result_path), exist_ok=True)
        with open(result_path, "x", encoding="utf-8") as result_file:
            result_file.write(text)
    except OSError as error:
        print(f"runbox: could not write the result: {error}", file=sys.stderr)


def remove_result(result_path):
    try:
        os.unlink(result_path)
    except OSError:
        pass


def type_name(value):
    try:
        kind = type(value)
        module = getattr(kind, "__module__", "builtins")
        name = kind.__qualname__
        return name if module in ("builtins", None) else f"{module}.{name}"
    except Exception:  # noqa: BLE001
        return "object"


def short_repr(value, depth=0):
    """A repr made only from builtin types' own data: no user code runs to make it."""
    kind = type(value)
    if kind in (int, float, bool, type(None), complex):
        text = repr(value)
    elif kind in (str, bytes):
        text = repr(value[:REPR_MAX]) + ("..." if len(value) > REPR_MAX else "")
    elif kind in (list, tuple, set, frozenset):
        if depth > 2:
            return "[...]"
        items = []
        for index, item in enumerate(value):
            if index >= 8:
                items.append("...")
                break
            items.append(short_repr(item, depth + 1))
        inner = ", ".join(items)
        text = {list: f"[{inner}]", tuple: f"({inner})", set: f"{{{inner}}}"}.get(
            kind, f"frozenset({{{inner}}})"
        )
    elif kind is dict:
        if depth > 2:
            return "{...}"
        items = []
        for index, (key, item) in enumerate(value.items()):
            if index >= 8:
                items.append("...")
                break
            items.append(f"{short_repr(key, depth + 1)}: {short_repr(item, depth + 1)}")
        text = "{" + ", ".join(items) + "}"
    elif isinstance(value, types.ModuleType):
        text = f"<module {getattr(value, '__name__', '?')!r}>"
    elif isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        text = f"<function {getattr(value, '__qualname__', '?')}>"
    elif isinstance(value, type):
        text = f"<class {getattr(value, '__qualname__', '?')}>"
    else:
        text = f"<{type_name(value)} object>"
    return text if len(text) <= REPR_MAX * 2 else text[: REPR_MAX * 2] + "..."


def bounded_json(value, budget):
    """The value's JSON within `budget` characters, or None and why it cannot be kept.

    Exact JSON types only: a subclass could run code, and would not come back as itself. Every
    element takes two characters at least ("1,"), so a container longer than half the budget is
    too large before it is walked: the work is bounded by the budget, not by the value.
    """
    nodes_left = budget // 2 + 1
    stack = [value]
    while stack:
        item = stack.pop()
        nodes_left -= 1
        if nodes_left < 0:
            return None, "too large"
        kind = type(item)
        if kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return None, "not JSON"
        elif kind is str:
            if len(item) > budget:
                return None, "too large"
        elif kind in PLAIN_SCALARS:
            continue
        elif kind is list:
            if len(item) > nodes_left:
                return None, "too large"
            stack.extend(item)
        elif kind is dict:
            if len(item) > nodes_left:
                return None, "too large"
            for key, child in item.items():
                if type(key) is not str:
                    return None, "not JSON"
                stack.append(child)
        else:
            return None, "not JSON"
    encoder = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    parts = []
    size = 0
    try:
        for chunk in encoder.iterencode(value):
            size += len(chunk)
            if size > budget:
                return None, "too large"
            parts.append(chunk)
    except (TypeError, ValueError, RecursionError):
        return None, "not JSON"
    return "".join(parts), None


def user_names(namespace):
    return [name for name in list(namespace) if not name.startswith("_")]


def snapshot(namespace):
    values = {}
    modules = {}
    lost = []
    left = SNAPSHOT_MAX_BYTES
    for name in user_names(namespace):
        value = namespace.get(name)
        if isinstance(value, types.ModuleType):
            modules[name] = getattr(value, "__name__", name)
            continue
        text, reason = bounded_json(value, left)
        if text is None:
            if len(lost) < MAX_LISTED:
                lost.append({"name": name, "type": type_name(value), "reason": reason})
            continue
        left -= len(text) + len(name) + 4
        values[name] = json.loads(text)
    return {"values": values, "modules": modules, "lost": lost}


def valid_name(name):
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("__")
    )


class Kernel:
    def __init__(self, channel):
        self.channel = channel
        self.cells = 0
        self.runner_module = sys.modules["__main__"]
        module = types.ModuleType("__main__")
        module.__builtins__ = __builtins__
        module.__file__ = "/workspace/session.py"
        module.__cached__ = None
        sys.modules["__main__"] = module
        sys.path[0] = "/workspace"
        self.namespace = module.__dict__

    def run_cell(self, message):
        global busy
        code = message.get("code", "")
        fence = str(message.get("fence", "")).encode("ascii")
        result_path = message.get("resultPath", "/workspace/.runbox/result.json")
        remove_result(result_path)
        self.cells += 1
        filename = f"<cell {self.cells}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        status, exit_code, value = "ok", 0, None
        try:
            busy = True
            tree = ast.parse(code, filename=filename)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            body = compile(tree, filename, "exec", dont_inherit=True)
            last_code = compile(last, filename, "eval", dont_inherit=True) if last else None
            exec(body, self.namespace)
            if last_code is not None:
                value = eval(last_code, self.namespace)
            busy = False
        except KeyboardInterrupt as error:
            busy = False
            status, exit_code = "interrupted", 130
            print_error(error)
        except SystemExit as error:
            busy = False
            code_value = error.code
            if code_value is None or code_value == 0:
                status, exit_code = "exit", 0
            elif isinstance(code_value, int):
                status, exit_code = "exit", code_value & 0xFF
            else:
                print(code_value, file=sys.stderr)
                status, exit_code = "exit", 1
        except SyntaxError as error:
            busy = False
            error.__traceback__ = None
            status, exit_code = "error", 1
            print_error(error)
        except BaseException as error:  # noqa: BLE001 - everything a cell raises is reported
            busy = False
            status, exit_code = "error", 1
            print_error(error)
        finally:
            busy = False
        if value is not None:
            write_result(result_path, value)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a cell may have closed or replaced it
                pass
        fenced = []
        for fd in (1, 2):
            try:
                os.write(fd, b"\0" + fence + b"\0")
                fenced.append(True)
            except OSError:
                fenced.append(False)
        return {
            "status": status,
            "exitCode": exit_code,
            "fenced": fenced,
            "snapshot": snapshot(self.namespace),
        }

    def variables(self, _message):
        listing = []
        for name in sorted(user_names(self.namespace))[:MAX_LISTED]:
            value = self.namespace.get(name)
            listing.append({"name": name, "type": type_name(value), "repr": short_repr(value)})
        return {"variables": listing}

    def set_variable(self, message):
        name = message.get("name")
        if not valid_name(name):
            return {"error": f"{name!r} is not a name a variable can have"}
        self.namespace[name] = message.get("value")
        return {"ok": True}

    def restore(self, message):
        import importlib

        restored = []
        failed = []
        for name, value in (message.get("values") or {}).items():
            if valid_name(name):
                self.namespace[name] = value
                restored.append(name)
        for name, module_name in (message.get("modules") or {}).items():
            if not valid_name(name):
                continue
            try:
                self.namespace[name] = importlib.import_module(module_name)
                restored.append(name)
            except BaseException as error:  # noqa: BLE001 - a module that no longer imports
                failed.append({"name": name, "type": "module", "reason": type(error).__name__})
        return {"restored": restored, "failed": failed}

    def serve(self):
        handlers = {
            "cell": self.run_cell,
            "variables": self.variables,
            "set": self.set_variable,
            "restore": self.restore,
        }
        while True:
            message = self.channel.receive()
            handler = handlers.get(message.get("op"))
            if handler is None:
                reply = {"error": f"unknown op {message.get('op')!r}"}
            else:
                reply = handler(message)
            reply["id"] = message.get("id")
            reply["op"] = message.get("op")
            self.channel.send(reply)


def main():
    signal.signal(signal.SIGINT, on_sigint)
    channel = Channel()
    kernel = Kernel(channel)
    channel.ready()
    kernel.serve()


main()
