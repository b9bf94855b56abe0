// SPDX-License-Identifier: Apache-2.0
// Enter sessions in the guest (rkt enter in a pod, OCI exec in a container): requests come on
// the "enter" port (struct abi_enter_header, then NUL-terminated strings: the app's name, the
// working directory, argc arguments, then KEY=VALUE environment). Each runs in a helper
// process of the session the VMM chose (up to ABI_ENTER_SESSIONS at once), whose command's
// stdio goes through that session's stdout, stderr and stdin ports, whose status goes to
// ABI_ENTER_EXIT_PORT, and which takes signals and resizes for it from PID 1 through a pipe
// (as PID 1 takes its own from the control port).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

int enter_requests = -1;
struct enter_session enter_sessions[ABI_ENTER_SESSIONS];
static unsigned char enter_buf[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
static size_t enter_len;

void enter_open_ports(void)
{
	enum { PER = 3, N = 1 + PER * ABI_ENTER_SESSIONS };
	static char names[N][32];
	const char *name[N];
	int flags[N], fds[N];
	static const char *const kinds[PER] = {"stdout", "stderr", "stdin"};
	static const int kind_flags[PER] = {O_WRONLY, O_WRONLY, O_RDONLY | O_NONBLOCK};
	name[0] = "enter";
	flags[0] = O_RDONLY | O_NONBLOCK;
	for (int i = 1; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "enter-%s.%d", kinds[(i - 1) % PER], (i - 1) / PER);
		name[i] = names[i];
		flags[i] = kind_flags[(i - 1) % PER];
	}
	if (open_ports(name, flags, fds, N) < 0)
		fail("finding the enter ports");
	enter_requests = fds[0];
	for (int s = 0; s < ABI_ENTER_SESSIONS; s++)
		enter_sessions[s] = (struct enter_session){.out = fds[1 + PER * s], .err = fds[2 + PER * s],
							    .in = fds[3 + PER * s], .control = -1};
}

void enter_read(void)
{
	ssize_t got = read(enter_requests, enter_buf + enter_len, sizeof(enter_buf) - enter_len);
	if (got > 0)
		enter_len += (size_t)got;
}

// A pod's later container's volume from its string: "r" or "w", "d" or "f", the target.
static bool parse_volume(const char *s, struct launch_volume *v)
{
	*v = (struct launch_volume){.target = s + 2, .readonly = s[0] == 'r', .file = s[1] == 'f'};
	return (s[0] == 'r' || s[0] == 'w') && (s[1] == 'd' || s[1] == 'f') && s[2] == '/';
}

// Splits a request's strings; false when it is malformed. argv and env point into buf.
static bool enter_parse(unsigned char *buf, size_t len, const struct abi_enter_header *h, const char **app,
			const char **cwd, char **argv, struct launch_volume *vols, char **env, size_t max)
{
	unsigned argc = h->argc, nvol = h->nvolumes;
	size_t i = 0, k = 0, e = 0;
	const char *strs[ABI_ENTER_MAX_STRINGS];
	while (i < len && k < ABI_ENTER_MAX_STRINGS) {
		unsigned char *nul = memchr(buf + i, '\0', len - i);
		if (!nul)
			return false;
		strs[k++] = (const char *)buf + i;
		i = (size_t)(nul - buf) + 1;
	}
	if (i != len || k < 2 + argc + nvol || argc == 0 || argc >= max || k - 2 - argc >= max ||
	    nvol > LAUNCH_MAX_VOLUMES || strs[1][0] != '/')
		return false;
	*app = strs[0];
	*cwd = strs[1];
	for (unsigned a = 0; a < argc; a++)
		argv[a] = (char *)strs[2 + a];
	argv[argc] = NULL;
	for (unsigned v = 0; v < nvol; v++)
		if (!parse_volume(strs[2 + argc + v], &vols[v]))
			return false;
	for (size_t j = 2 + argc + nvol; j < k; j++)
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
static int enter_run(const struct enter_session *es, struct workload *cmd, bool tty, uint16_t rows,
		     uint16_t cols, int ctl)
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
	struct relay rl = {.ws = cmd, .n = 1, .port_out = es->out, .port_ctl = ctl,
			   .port_in = dup(es->in), .out_r = outp[0], .err_r = errp[0],
			   .in_w = inp[1], .tty = tty};
	return relay_run(&rl);
}

// The helper of session es: runs the command in the app's root as the request's user, with
// the control messages PID 1 passes on (ctl), reports its status, then reads the session's
// stdin port to the EOF the host sends once it has the status, so nothing of this use of the
// session is left for the next.
// A pod's later container, or an exec into one (live: PID 1 found it running, or for
// ABI_ENTER_CONTAINER found its name free), runs chrooted into its root beneath the pod share
// with the capability set the request gives.
static __attribute__((noreturn)) void enter_session(const struct enter_session *es, const struct abi_enter_header *h,
						    const unsigned char *req, const struct workload *ws, unsigned n,
						    bool pod, int ctl, bool live)
{
	static unsigned char strings[ABI_ENTER_MAX];
	static char *argv[ABI_ENTER_MAX_STRINGS], *env[ABI_ENTER_MAX_STRINGS];
	static struct launch_volume vols[LAUNCH_MAX_VOLUMES];
	memcpy(strings, req, h->size);
	err_fd = es->err;
	const char *app = NULL;
	struct workload cmd = {.status = -1, .argv = argv, .env = env};
	const struct workload *target = NULL;
	int status = ABI_STATUS_INIT_FAILED;
	static struct launch_rlimit limits[ABI_ENTER_MAX_RLIMITS];
	bool limits_ok = h->nrlimits <= ABI_ENTER_MAX_RLIMITS;
	for (unsigned i = 0; limits_ok && i < h->nrlimits; i++) {
		const struct abi_rlimit *l = &h->rlimits[i];
		limits[i] = (struct launch_rlimit){.resource = l->resource, .soft = l->soft, .hard = l->hard};
		limits_ok = l->resource < LAUNCH_MAX_RLIMITS && l->soft <= l->hard;
	}
	bool parsed = enter_parse(strings, h->size, h, &app, &cmd.cwd, argv, vols, env, ABI_ENTER_MAX_STRINGS);
	bool joined = parsed && !pod && app[0], up = joined && (h->flags & ABI_ENTER_CONTAINER);
	if (!parsed || h->ngroups > ABI_ENTER_MAX_GROUPS || h->ngroups > ARRAY_LEN(cmd.id.groups) || !limits_ok) {
		say("clearvm: guest-init: a malformed enter request");
	} else if (joined && !live) {
		say(up ? "clearvm: enter: container %s: no pod share, or its name is taken or not one"
		       : "clearvm: enter: no running container %s in this pod", app);
	} else if (!joined && !(target = enter_target(ws, n, pod, app))) {
		say("clearvm: enter: no app named %s in this pod", app);
	} else if (!up || container_up(app, vols, h->nvolumes) == 0) {
		if (joined) { // chrooted from the pod share (container_up left us there too)
			snprintf(cmd.root, sizeof(cmd.root), "%s", app);
			cmd.bound_caps = h->flags & ABI_ENTER_BOUND_CAPS;
			cmd.caps = h->caps;
		} else {
			memcpy(cmd.root, target->root, sizeof(cmd.root));
			// A container's exec gets no capability its workload lacks (a pod's enter is
			// rkt's: root with the full set, as rkt's own stage1 gives).
			cmd.bound_caps = !pod && target->bound_caps;
			cmd.caps = target->caps;
		}
		cmd.id.uid = h->uid;
		cmd.id.gid = h->gid;
		cmd.id.ngroups = h->ngroups;
		memcpy(cmd.id.groups, h->groups, h->ngroups * sizeof(h->groups[0]));
		cmd.rlimits = limits;
		cmd.nrlimits = h->nrlimits;
		cmd.no_new_privs = h->flags & ABI_ENTER_NO_NEW_PRIVS;
		if (joined && fchdir(pod_fd) < 0)
			say("clearvm: guest-init: the pod share: %s", strerror(errno));
		else
			status = enter_run(es, &cmd, h->flags & ABI_ENTER_TTY, h->rows, h->cols, ctl);
		if (up && cmd.pid > 0) // what its process left running in its session goes with it
			kill(-cmd.pid, SIGKILL);
		if (up)
			container_down(app);
	}
	outl(ABI_ENTER_REPORT(h->session, (unsigned)status), ABI_ENTER_EXIT_PORT);
	char sink[4096];
	struct pollfd in = {.fd = es->in, .events = POLLIN};
	while (poll(&in, 1, -1) >= 0) {
		ssize_t got = read(es->in, sink, sizeof(sink));
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	_exit(0);
}

void enter_reaped(pid_t pid)
{
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++) {
		struct enter_session *es = &enter_sessions[s];
		if (es->helper != pid)
			continue;
		es->helper = 0;
		es->container[0] = '\0';
		close(es->control);
		es->control = -1;
		outl(ABI_ENTER_REPORT(s, ABI_ENTER_DONE), ABI_ENTER_EXIT_PORT); // free for the next
	}
}

void enter_control(struct abi_control m)
{
	struct enter_session *es = m.session < ABI_ENTER_SESSIONS ? &enter_sessions[m.session] : NULL;
	m.kind = m.kind == ABI_CONTROL_ENTER_SIGNAL ? ABI_CONTROL_SIGNAL : ABI_CONTROL_RESIZE;
	if (es && es->control >= 0 && write(es->control, &m, sizeof(m)) < 0)
		say("clearvm: guest-init: enter: a control message lost: %s", strerror(errno));
}

// A pod's later container by name: for ABI_ENTER_CONTAINER, true when the name may be
// taken (and es takes it); else true when a session runs that container.
static bool container_live(struct enter_session *es, const struct abi_enter_header *h, const unsigned char *req)
{
	const char *name = (const char *)req;
	if (!h->size || !memchr(req, '\0', h->size) || !name[0] || pod_fd < 0)
		return false;
	bool running = false;
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++)
		running = running || (enter_sessions[s].helper && !strcmp(enter_sessions[s].container, name));
	if (!(h->flags & ABI_ENTER_CONTAINER))
		return running;
	if (running || name[0] == '.' || strchr(name, '/') || strlen(name) >= sizeof(es->container))
		return false;
	strcpy(es->container, name);
	return true;
}

// Starts session h->session's helper for the request h (its strings at req); the helper
// keeps only its own session's ports.
static void enter_fork(const struct abi_enter_header *h, const unsigned char *req, struct workload *ws,
		       unsigned n, bool pod)
{
	struct enter_session *es = &enter_sessions[h->session];
	bool live = !pod && container_live(es, h, req);
	int ctl[2] = {-1, -1};
	if (pipe2(ctl, O_CLOEXEC) < 0 || fcntl(ctl[1], F_SETFL, O_NONBLOCK) < 0 || (es->helper = fork()) < 0) {
		// No helper: the session ends here, failed (the host's client gets 125).
		say("clearvm: guest-init: enter: %s", strerror(errno));
		es->helper = 0;
		es->container[0] = '\0';
		if (ctl[0] >= 0) {
			close(ctl[0]);
			close(ctl[1]);
		}
		outl(ABI_ENTER_REPORT(h->session, ABI_STATUS_INIT_FAILED), ABI_ENTER_EXIT_PORT);
		outl(ABI_ENTER_REPORT(h->session, ABI_ENTER_DONE), ABI_ENTER_EXIT_PORT);
		return;
	}
	if (es->helper == 0) {
		close(ctl[1]);
		close(enter_requests);
		for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++) {
			struct enter_session *o = &enter_sessions[s];
			if (o == es)
				continue;
			close(o->out);
			close(o->err);
			close(o->in);
			if (o->control >= 0)
				close(o->control);
		}
		enter_session(es, h, req, ws, n, pod, ctl[0], live);
	}
	close(ctl[0]);
	es->control = ctl[1];
}

void enter_start(struct workload *ws, unsigned n, bool pod)
{
	struct abi_enter_header h;
	while (enter_len >= sizeof(h)) {
		memcpy(&h, enter_buf, sizeof(h));
		if (h.size > ABI_ENTER_MAX) { // a broken stream: nothing after it can be trusted
			say("clearvm: guest-init: a malformed enter request");
			enter_len = 0;
			return;
		}
		size_t total = sizeof(h) + h.size;
		if (enter_len < total)
			return;
		// The VMM sends a session's request only once the session is done: one for a busy or
		// unknown session has nowhere to report to, and is dropped.
		if (h.session < ABI_ENTER_SESSIONS && !enter_sessions[h.session].helper)
			enter_fork(&h, enter_buf + sizeof(h), ws, n, pod);
		else
			say("clearvm: guest-init: an enter request for session %u, which is not free", h.session);
		memmove(enter_buf, enter_buf + total, enter_len - total);
		enter_len -= total;
	}
}
