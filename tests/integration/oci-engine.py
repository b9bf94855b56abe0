#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The part of a container engine (conmon, containerd's shim) the OCI cases need: a subreaper
# that runs `RUNTIME --root ROOT create --bundle BUNDLE --pid-file PIDFILE ID` with its own
# stdio (the container's), then `start ID` (once GATE exists, when given), waits for the
# process named in PIDFILE and exits with its status as a shell gives it (128+N for signal N).
# With --console: create gets --console-socket, the pty master it sends is what the engine
# reads the container's output from (copied to stdout).
# A create or start that fails: its status, with "engine: create failed" on stderr.
import array, ctypes, os, shutil, socket, sys, tempfile, time

PR_SET_CHILD_SUBREAPER = 36

def receive_master(listener):
    conn, _ = listener.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    conn.close()
    if not fds:
        sys.exit("engine: no pty master on the console socket")
    return fds[0], msg.decode()

def main():
    args = sys.argv[1:]
    console = args[0] == "--console"
    if console:
        args = args[1:]
    runtime, root, bundle, cid, pidfile = args[:5]
    gate = args[5] if len(args) > 5 else None
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("engine: prctl: %s" % os.strerror(ctypes.get_errno()))
    extra = []
    if console:
        # On a local file system (the test bed's /tmp is shared over 9p: no sockets there).
        sock_dir = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        sock_path = os.path.join(sock_dir, "console.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sock_path)
        listener.listen(1)
        extra = ["--console-socket", sock_path]
    rc = os.spawnv(os.P_WAIT, runtime, [runtime, "--root", root, "create", "--bundle", bundle,
                                        "--pid-file", pidfile] + extra + [cid])
    if rc != 0:
        print("engine: create failed (%d)" % rc, file=sys.stderr)
        sys.exit(rc)
    pid = int(open(pidfile).read())
    master = None
    if console:
        master, name = receive_master(listener)
        listener.close()
        shutil.rmtree(sock_dir)
        print("engine: pty %s" % name, file=sys.stderr)
    if gate:
        while not os.path.exists(gate):
            time.sleep(0.05)
    rc = os.spawnv(os.P_WAIT, runtime, [runtime, "--root", root, "start", cid])
    if rc != 0:
        print("engine: start failed (%d)" % rc, file=sys.stderr)
        os.kill(pid, 9)
    if master is not None:  # the container's output, until its side of the pty is gone
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    # Reap until the container's process itself has ended (create's other children too).
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except ChildProcessError:
            sys.exit("engine: the container's process %d was never reaped here" % pid)
        if got == pid:
            break
    sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))

main()
