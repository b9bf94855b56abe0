// SPDX-License-Identifier: Apache-2.0
// A workload's process: its root, stdio, pre-start handler, capabilities, identity, directory,
// then exec; and the pty a terminal workload runs on.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

int exit_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return ABI_STATUS_INIT_FAILED;
}

void load_workload(const struct launch_workload *lw, struct workload *w)
{
	w->name = lw->name;
	w->argv = lw->argv;
	w->env = lw->env;
	w->cwd = lw->cwd;
	w->id.uid = lw->uid;
	w->id.gid = lw->gid;
	w->id.ngroups = lw->ngroups;
	memcpy(w->id.groups, lw->groups, lw->ngroups * sizeof(lw->groups[0]));
	w->pre_start = lw->pre_start;
	w->bound_caps = lw->bound_caps;
	w->caps = lw->caps;
	w->rlimits = lw->rlimits;
	w->nrlimits = lw->nrlimits;
	w->no_new_privs = lw->no_new_privs;
	w->status = -1;
}

static int exec_status(int e)
{
	return e == ENOENT || e == ENOTDIR ? ABI_STATUS_NOT_FOUND : ABI_STATUS_CANNOT_EXEC;
}

// Keeps only the capabilities in keep (bit N: capability N) in the bounding and inheritable
// sets, so that no exec can gain another: for a root workload, what it runs with.
static int bound_capabilities(uint64_t keep)
{
	for (int c = 0; c < 64; c++) {
		if (keep >> c & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c) < 0) {
			if (errno == EINVAL) // past the kernel's last capability
				break;
			return -1;
		}
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].inheritable &= (uint32_t)keep;
	d[1].inheritable &= (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

// An app's pre-start handler, as root in its root with its environment and stdio, as rkt runs
// it: its status (0: the app may start).
static int pre_start(const struct workload *w)
{
	pid_t pid = fork();
	if (pid == 0) {
		environ = w->env;
		if (chdir("/") == 0)
			execvp(w->pre_start[0], w->pre_start);
		_exit(exec_status(errno));
	}
	int ws;
	if (pid < 0 || waitpid(pid, &ws, 0) < 0)
		return ABI_STATUS_INIT_FAILED;
	int status = exit_status(ws);
	if (status)
		say("clearvm: guest-init: app %s: its pre-start handler %s ended with %d", w->name,
		    w->pre_start[0], status);
	return status;
}

// The workload's process: its root, stdio, identity, directory, then exec. An error before or
// at exec goes back to PID 1 through errpipe (close-on-exec, so success closes it empty) and
// becomes the exit status (127: not found, 126: cannot run).
// With a pty, in, out and errfd are all its slave side, which becomes the controlling terminal.
__attribute__((noreturn)) void child(const struct workload *w, int in, int out, int errfd,
					    bool tty, int errpipe)
{
	if (in < 0)
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		in = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = 0;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); // PID 1 blocks SIGCHLD for its signalfd; a workload does not
	setsid();
	if (w->root[0] && (chroot(w->root) < 0 || chdir("/") < 0))
		e = errno;
	if (!e && tty && ioctl(in, TIOCSCTTY, 0) < 0)
		e = errno;
	if (!e && (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0))
		e = errno;
	umask(022);
	int handler = !e && w->pre_start ? pre_start(w) : 0;
	if (handler)
		_exit(handler); // errpipe closes empty: the app's status is the handler's
	if (!e && w->bound_caps && bound_capabilities(w->caps) < 0)
		e = errno;
	for (size_t i = 0; !e && i < w->nrlimits; i++) { // as root: a hard limit may be raised
		struct rlimit l = {.rlim_cur = w->rlimits[i].soft, .rlim_max = w->rlimits[i].hard};
		if (setrlimit((int)w->rlimits[i].resource, &l) < 0)
			e = errno;
	}
	if (!e && w->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		e = errno;
	if (!e && (setgroups(w->id.ngroups, w->id.groups) < 0 || setgid(w->id.gid) < 0 ||
		   setuid(w->id.uid) < 0))
		e = errno;
	if (!e && chdir(w->cwd) < 0)
		e = errno;
	if (!e) {
		environ = w->env;
		execvp(w->argv[0], w->argv);
		e = errno;
	}
	if (write(errpipe, &e, sizeof(e)) < 0) {
		// the parent sees EOF and reports a generic failure
	}
	_exit(exec_status(e));
}

// A pty for the workload: master for PID 1 (out[0] reads what the workload writes, in[1] takes
// its input), slave for the workload (out[1] and in[0]), sized as the host's terminal (rows
// and cols 0: unknown). 0, or -1 with errno.
int open_pty(uid_t owner, uint16_t rows, uint16_t cols, int out[2], int in[2])
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return -1;
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -1;
	if (fchown(slave, owner, (gid_t)-1) < 0)
		say("clearvm: guest-init: pty owner: %s", strerror(errno));
	if (rows && cols) {
		struct winsize ws = {.ws_row = rows, .ws_col = cols};
		ioctl(master, TIOCSWINSZ, &ws);
	}
	out[0] = master;
	out[1] = slave;
	in[0] = slave;
	in[1] = master;
	return 0;
}
