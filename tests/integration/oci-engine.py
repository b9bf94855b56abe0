#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The part of a container engine (conmon, containerd's shim) the OCI cases need: a subreaper
# that runs `RUNTIME --root ROOT create --bundle BUNDLE --pid-file PIDFILE ID` with its own
# stdio (the container's), then `start ID` (once GATE exists, when given), waits for the
# process named in PIDFILE and exits with its status as a shell gives it (128+N for signal N).
# A create or start that fails: its status, with "engine: create failed" on stderr.
import ctypes, os, sys, time

PR_SET_CHILD_SUBREAPER = 36

def main():
    runtime, root, bundle, cid, pidfile = sys.argv[1:6]
    gate = sys.argv[6] if len(sys.argv) > 6 else None
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("engine: prctl: %s" % os.strerror(ctypes.get_errno()))
    rc = os.spawnv(os.P_WAIT, runtime, [runtime, "--root", root, "create", "--bundle", bundle,
                                        "--pid-file", pidfile, cid])
    if rc != 0:
        print("engine: create failed (%d)" % rc, file=sys.stderr)
        sys.exit(rc)
    pid = int(open(pidfile).read())
    if gate:
        while not os.path.exists(gate):
            time.sleep(0.05)
    rc = os.spawnv(os.P_WAIT, runtime, [runtime, "--root", root, "start", cid])
    if rc != 0:
        print("engine: start failed (%d)" % rc, file=sys.stderr)
        os.kill(pid, 9)
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
