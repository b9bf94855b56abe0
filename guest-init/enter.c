// SPDX-License-Identifier: Apache-2.0
// Enter sessions in the guest (rkt enter in a pod, OCI exec in a container): requests come on
// the "enter" port (struct abi_enter_header, then NUL-terminated strings: the app's name, the
// working directory, argc arguments, then KEY=VALUE environment); one session at a time runs
// in a helper process, whose command's stdio goes through the enter-stdout/-stderr/-stdin
// ports, whose status goes to ABI_ENTER_EXIT_PORT, and which takes signals and resizes for it
// from PID 1 through a pipe (as PID 1 takes its own from the control port).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/io.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

int enter_ports[4] = {-1, -1, -1, -1};
pid_t enter_helper = -1;
int enter_control = -1;
static unsigned char enter_buf[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
static size_t enter_len;

void enter_read(void)
{
	ssize_t got = read(enter_ports[0], enter_buf + enter_len, sizeof(enter_buf) - enter_len);
	if (got > 0)
		enter_len += (size_t)got;
}

// Splits a request's strings; false when it is malformed. argv and env point into buf.
static bool enter_parse(unsigned char *buf, size_t len, unsigned argc, const char **app, const char **cwd,
			char **argv, char **env, size_t max)
{
	size_t i = 0, k = 0, e = 0;
	const char *strs[ABI_ENTER_MAX_STRINGS];
	while (i < len && k < ABI_ENTER_MAX_STRINGS) {
		unsigned char *nul = memchr(buf + i, '\0', len - i);
		if (!nul)
			return false;
		strs[k++] = (const char *)buf + i;
		i = (size_t)(nul - buf) + 1;
	}
	if (i != len || k < 2 + argc || argc == 0 || argc >= max || k - 2 - argc >= max ||
	    strs[1][0] != '/')
		return false;
	*app = strs[0];
	*cwd = strs[1];
	for (unsigned a = 0; a < argc; a++)
		argv[a] = (char *)strs[2 + a];
	argv[argc] = NULL;
	for (size_t j = 2 + argc; j < k; j++)
		env[e++] = (char *)strs[j];
	env[e] = NULL;
	return true;
}

// The workload the session's command joins: a pod's app by name, or a container's one
// workload (named ""); NULL when there is none such.
static const struct workload *enter_target(const struct workload *ws, unsigned n, bool pod, const char *app)
{
	for (unsigned i = 0; pod && i < n; i++)
		if (!strcmp(ws[i].name, app))
			return &ws[i];
	return !pod && !app[0] ? &ws[0] : NULL;
}

// Runs the session's command (its root, identity and capabilities set in cmd) on pipes or on
// a pty of rows x cols, relays its stdio through the enter ports, and returns its status.
static int enter_run(struct workload *cmd, bool tty, uint16_t rows, uint16_t cols, int ctl)
{
	int outp[2], errp[2] = {-1, -1}, inp[2], execp[2];
	struct stat st;
	if (tty && stat("/dev/pts/ptmx", &st) < 0) // the pod's first terminal
		mount_devpts("/dev/pts");
	if ((tty && open_pty(cmd->id.uid, rows, cols, outp, inp) < 0) ||
	    (!tty && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(inp, O_CLOEXEC) < 0)) ||
	    pipe2(execp, O_CLOEXEC) < 0 || fcntl(inp[1], F_SETFL, O_NONBLOCK) < 0 || (cmd->pid = fork()) < 0) {
		say("clearvm: guest-init: enter: %s", strerror(errno));
		return ABI_STATUS_INIT_FAILED;
	}
	if (cmd->pid == 0)
		child(cmd, inp[0], outp[1], tty ? outp[1] : errp[1], tty, execp[1]);
	close(outp[1]); // with a tty, the slave
	if (!tty) {
		close(errp[1]);
		close(inp[0]);
	}
	close(execp[1]);
	cmd->errpipe = execp[0];
	struct relay rl = {.ws = cmd, .n = 1, .port_out = enter_ports[1], .port_ctl = ctl,
			   .port_in = dup(enter_ports[3]), .out_r = outp[0], .err_r = errp[0],
			   .in_w = inp[1], .tty = tty};
	return relay_run(&rl);
}

// The helper: runs the command in the app's root as the request's user, with the control
// messages PID 1 passes on (ctl), reports its status, then reads the stdin port to the EOF the
// host sends once it has the status, so nothing of this session is left for the next.
static __attribute__((noreturn)) void enter_session(const struct abi_enter_header *h, const unsigned char *req,
						    const struct workload *ws, unsigned n, bool pod, int ctl)
{
	static unsigned char strings[ABI_ENTER_MAX];
	static char *argv[ABI_ENTER_MAX_STRINGS], *env[ABI_ENTER_MAX_STRINGS];
	memcpy(strings, req, h->size);
	err_fd = enter_ports[2];
	const char *app = NULL;
	struct workload cmd = {.status = -1, .argv = argv, .env = env};
	const struct workload *target = NULL;
	int status = ABI_STATUS_INIT_FAILED;
	if (!enter_parse(strings, h->size, h->argc, &app, &cmd.cwd, argv, env, ABI_ENTER_MAX_STRINGS) ||
	    h->ngroups > ABI_ENTER_MAX_GROUPS || h->ngroups > ARRAY_LEN(cmd.id.groups)) {
		say("clearvm: guest-init: a malformed enter request");
	} else if (!(target = enter_target(ws, n, pod, app))) {
		say("clearvm: enter: no app named %s in this pod", app);
	} else {
		memcpy(cmd.root, target->root, sizeof(cmd.root));
		cmd.id.uid = h->uid;
		cmd.id.gid = h->gid;
		cmd.id.ngroups = h->ngroups;
		memcpy(cmd.id.groups, h->groups, h->ngroups * sizeof(h->groups[0]));
		// A container's exec gets no capability its workload lacks (a pod's enter is rkt's:
		// root with the full set, as rkt's own stage1 gives).
		cmd.bound_caps = !pod && target->bound_caps;
		cmd.caps = target->caps;
		status = enter_run(&cmd, h->flags & ABI_ENTER_TTY, h->rows, h->cols, ctl);
	}
	outl((unsigned)status, ABI_ENTER_EXIT_PORT);
	char sink[4096];
	struct pollfd in = {.fd = enter_ports[3], .events = POLLIN};
	while (poll(&in, 1, -1) >= 0) {
		ssize_t got = read(enter_ports[3], sink, sizeof(sink));
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	_exit(0);
}

void enter_ended(void)
{
	enter_helper = -1;
	if (enter_control >= 0)
		close(enter_control);
	enter_control = -1;
}

// Starts a session for the next complete request, if any.
void enter_start(struct workload *ws, unsigned n, bool pod)
{
	struct abi_enter_header h;
	if (enter_len < sizeof(h))
		return;
	memcpy(&h, enter_buf, sizeof(h));
	if (h.size > ABI_ENTER_MAX) { // a broken stream: nothing after it can be trusted
		enter_len = 0;
		return;
	}
	size_t total = sizeof(h) + h.size;
	if (enter_len < total)
		return;
	int ctl[2] = {-1, -1};
	if (pipe2(ctl, O_CLOEXEC) < 0 || fcntl(ctl[1], F_SETFL, O_NONBLOCK) < 0 ||
	    (enter_helper = fork()) < 0) {
		// No helper: the session ends here, failed (the host's client gets 125).
		say("clearvm: guest-init: enter: %s", strerror(errno));
		enter_helper = -1;
		if (ctl[0] >= 0) {
			close(ctl[0]);
			close(ctl[1]);
		}
		ctl[1] = -1;
		outl(ABI_STATUS_INIT_FAILED, ABI_ENTER_EXIT_PORT);
		outl(ABI_ENTER_DONE, ABI_ENTER_EXIT_PORT);
	} else if (enter_helper == 0) {
		close(ctl[1]);
		enter_session(&h, enter_buf + sizeof(h), ws, n, pod, ctl[0]);
	} else {
		close(ctl[0]);
	}
	enter_control = ctl[1];
	memmove(enter_buf, enter_buf + total, enter_len - total);
	enter_len -= total;
}
