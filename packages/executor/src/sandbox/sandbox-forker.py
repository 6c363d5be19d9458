#!/usr/bin/python3
"""runbox's forker: starts sandbox processes on the server's behalf.

Every sandbox starts as a child of this small, long-lived process instead of the server's own:
a fork of the ~100 MB server costs about 3 ms of its event loop per run, a fork of this one a
fraction of that. The child does the launcher's work itself, in order, before it execs bwrap:
  1. its descriptors: the run's streams at 0, 1, 2, 4 (and 5), the seccomp program at 3, nothing
     else (every other descriptor is closed);
  2. signal dispositions and mask back to their defaults (Python ignores SIGPIPE and SIGXFSZ;
     a program must not inherit that);
  3. rlimits: open files, file size, no core dumps (soft and hard);
  4. the run's cgroups joined (a "0" into each join file), before anything of the run is exec'd,
     so every process the run ever makes is born inside them;
  5. for a project layer: a private mount namespace of its own, and the overlay mounted in the
     workspace with relative layer names;
  6. privileges dropped for good (no groups, the runs' uid and gid, no_new_privs);
  7. execve(bwrap) with the environment it is given, nothing of the server's.
A step that fails ends the child with status 125 and its reason on the run's stderr.

Usage: sandbox-forker.py ABSTRACT_SOCKET_NAME
Descriptor 3 is the control channel with the server (a socketpair): JSON lines both ways.
  server -> forker: {"op": "spawn", "id", "token", "roles", "seccomp", "file", "args", "env",
                     "launch"} | {"op": "kill", "id", "signal"}
  forker -> server: {"op": "ready"} | {"op": "spawned", "id", "pid"}
                    | {"op": "failed", "id", "error"} | {"op": "exit", "id", "code", "signal"}
The run's streams arrive as connections to the abstract Unix socket named on the command line,
each first sending 16 bytes: a 15-character token and its role, i (stdin), o (stdout),
e (stderr), s (bwrap's status) or r (a warm sandbox's ready pipe). Only the server may connect:
a peer whose pid is not the forker's parent is dropped. Abstract names live in a network
namespace, and no sandbox shares the host's.
When the control channel closes (the server ended), the forker exits; bwrap's --die-with-parent
then ends every sandbox it started. It also dies with the server by PR_SET_PDEATHSIG.
"""

import ctypes
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

CONTROL_FD = 3
HEADER_BYTES = 16
ROLE_FDS = {"i": 0, "o": 1, "e": 2, "s": 4, "r": 5}
SECCOMP_FD = 3
PENDING_TIMEOUT_S = 10.0
FINISH_GRACE_S = 1.5

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def reset_signals():
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass


def arrange_fds(streams, seccomp_path):
    """The run's descriptors at their numbers, every other one closed."""
    seccomp = os.open(seccomp_path, os.O_RDONLY | os.O_CLOEXEC)
    wanted = dict(streams)
    wanted[SECCOMP_FD] = seccomp
    # Out of the way first: a source may sit on another's target number.
    moved = {target: os.dup(source) for target, source in wanted.items()}
    for target, source in moved.items():
        os.dup2(source, target, inheritable=True)
    highest = max(moved)
    os.closerange(highest + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    for number in range(highest):
        if number not in moved:
            try:
                os.close(number)
            except OSError:
                pass


def mount_layer(layer):
    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    os.chdir(layer["dir"])
    check(
        libc.mount(
            layer["source"].encode(),
            layer["target"].encode(),
            b"overlay",
            MS_NOSUID | MS_NODEV,
            layer["options"].encode(),
        ),
        "mount overlay",
    )
    os.chdir("/")


def launch_child(request, conns):
    """In the forked child: the launcher's steps, then bwrap. Never returns."""
    status = 125
    try:
        reset_signals()
        launch = request["launch"]
        arrange_fds({ROLE_FDS[role]: conn.fileno() for role, conn in conns.items()}, request["seccomp"])
        for limit, value in (
            (resource.RLIMIT_NOFILE, launch["openFiles"]),
            (resource.RLIMIT_FSIZE, launch["fileSizeBytes"]),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(limit, (value, value))
        for path in launch["cgroupJoinFiles"]:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        if launch.get("layer"):
            mount_layer(launch["layer"])
        run_as = launch.get("runAs")
        if run_as:
            os.setgroups([])
            os.setresgid(run_as["gid"], run_as["gid"], run_as["gid"])
            os.setresuid(run_as["uid"], run_as["uid"], run_as["uid"])
        check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        status = 127
        os.execve(request["file"], [request["file"], *request["args"]], request["env"])
    except BaseException as error:  # noqa: BLE001 - whatever it was, the child must not go on
        try:
            os.write(2, f"runbox launcher: {error}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(status)


class Forker:
    def __init__(self, name):
        self.control = socket.socket(fileno=CONTROL_FD)
        self.control.setblocking(False)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + name)
        self.listener.listen(256)
        self.listener.setblocking(False)
        self.parent = os.getppid()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.control, selectors.EVENT_READ, self.on_control)
        self.selector.register(self.listener, selectors.EVENT_READ, self.on_connection)
        wake_read, self.wake_write = socket.socketpair()
        wake_read.setblocking(False)
        self.wake_write.setblocking(False)
        signal.set_wakeup_fd(self.wake_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(wake_read, selectors.EVENT_READ, self.on_wake)
        self.buffer = b""
        self.conns = {}  # token -> {role: socket}
        self.first_seen = {}  # token -> when its first stream arrived
        self.pending = {}  # token -> (request, deadline)
        self.children = {}  # pid -> id

    def send(self, message):
        data = (json.dumps(message) + "\n").encode()
        self.control.setblocking(True)
        try:
            self.control.sendall(data)
        finally:
            self.control.setblocking(False)

    def on_connection(self, _):
        while True:
            try:
                conn, _ = self.listener.accept()
            except BlockingIOError:
                return
            try:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
                pid, _, _ = struct.unpack("3i", creds)
                if pid != self.parent:
                    conn.close()
                    continue
                conn.settimeout(2.0)
                header = b""
                while len(header) < HEADER_BYTES:
                    chunk = conn.recv(HEADER_BYTES - len(header))
                    if not chunk:
                        raise OSError("closed before its header")
                    header += chunk
                conn.setblocking(True)
                token, role = header[:15].decode(), header[15:16].decode()
                if role not in ROLE_FDS:
                    raise OSError(f"unknown role {role!r}")
            except OSError:
                conn.close()
                continue
            self.conns.setdefault(token, {})[role] = conn
            self.first_seen.setdefault(token, time.monotonic())
            self.try_spawn(token)

    def on_control(self, _):
        try:
            data = self.control.recv(1 << 16)
        except BlockingIOError:
            return
        if not data:
            self.finish()
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            message = json.loads(line)
            if message["op"] == "spawn":
                self.pending[message["token"]] = (message, time.monotonic() + PENDING_TIMEOUT_S)
                self.try_spawn(message["token"])
            elif message["op"] == "kill":
                for pid, run_id in self.children.items():
                    if run_id == message["id"]:
                        try:
                            os.kill(pid, message["signal"])
                        except ProcessLookupError:
                            pass

    def try_spawn(self, token):
        entry = self.pending.get(token)
        conns = self.conns.get(token, {})
        if entry is None or set(conns) != set(entry[0]["roles"]):
            return
        request, _ = self.pending.pop(token)
        self.conns.pop(token)
        self.first_seen.pop(token, None)
        try:
            pid = os.fork()
        except OSError as error:
            for conn in conns.values():
                conn.close()
            self.send({"op": "failed", "id": request["id"], "error": f"fork: {error}"})
            return
        if pid == 0:
            launch_child(request, conns)
        for conn in conns.values():
            conn.close()
        self.children[pid] = request["id"]
        self.send({"op": "spawned", "id": request["id"], "pid": pid})

    def on_wake(self, wake):
        try:
            while wake.recv(4096):
                pass
        except BlockingIOError:
            pass
        self.reap()

    def reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run_id = self.children.pop(pid, None)
            if run_id is None:
                continue
            if os.WIFSIGNALED(status):
                code, sig = None, signal.Signals(os.WTERMSIG(status)).name
            else:
                code, sig = os.WEXITSTATUS(status), None
            self.send({"op": "exit", "id": run_id, "code": code, "signal": sig})

    def finish(self):
        """The server is gone or done: every child reaped before the forker goes, none left to an
        init that may never reap. Those still running after a grace period are killed."""
        deadline = time.monotonic() + FINISH_GRACE_S
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid != 0:
                self.children.pop(pid, None)
                continue
            if time.monotonic() > deadline:
                for child in list(self.children):
                    try:
                        os.kill(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.01)
        sys.exit(0)

    def expire(self):
        now = time.monotonic()
        for token, (request, deadline) in list(self.pending.items()):
            if deadline < now:
                del self.pending[token]
                self.first_seen.pop(token, None)
                for conn in self.conns.pop(token, {}).values():
                    conn.close()
                self.send({"op": "failed", "id": request["id"], "error": "its streams did not all arrive"})
        # Streams whose request never came: dropped after a while too.
        for token in [token for token in self.conns if token not in self.pending]:
            if now - self.first_seen.get(token, now) > PENDING_TIMEOUT_S:
                self.first_seen.pop(token, None)
                for conn in self.conns.pop(token).values():
                    conn.close()

    def serve(self):
        self.send({"op": "ready"})
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                key.data(key.fileobj)
            self.reap()
            self.expire()


def main():
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    # The server may have ended before the line above: then nothing would ever kill this process.
    if os.getppid() == 1:
        sys.exit(0)
    # Signals meant for the server (a terminal's Ctrl-C, a SIGTERM to its process group) are the
    # server's to act on: it interrupts its runs, then closes the control channel. Its children
    # get every disposition back (reset_signals) before they exec.
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_IGN)
    os.chdir("/")
    Forker(sys.argv[1]).serve()


if __name__ == "__main__":
    main()
