// SPDX-License-Identifier: Apache-2.0
// The client of an enter session (the wire format is guest-init/abi.h's, the server enter.c):
// one message with the request and this process's stdio attached, then the signals it gets as
// struct abi_control messages, until the 4-byte status comes back.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "enter_client.h"
#include "fdpass.h"
#include "util.h"

socklen_t enter_address(const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t len = MIN(strlen(name), sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path + 1, name, len); // sun_path[0] = 0: the abstract namespace
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

int enter_connect(const char *name, bool abstract)
{
	if (!abstract)
		return unix_connect(name);
	struct sockaddr_un sa;
	socklen_t len = enter_address(name, &sa);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return s;
}

// Appends the NUL-terminated string str at *off. false when it does not fit.
static bool put(uint8_t *buf, size_t size, size_t *off, const char *str)
{
	size_t l = strlen(str) + 1;
	if (l > size - *off)
		return false;
	memcpy(buf + *off, str, l);
	*off += l;
	return true;
}

int enter_send(int s, const struct enter_request *r)
{
	static uint8_t req[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
	struct abi_enter_header h = {.uid = r->uid, .gid = r->gid, .ngroups = r->ngroups};
	if (!r->argv[0])
		return log_err(0, "enter: no command");
	if (r->ngroups > ABI_ENTER_MAX_GROUPS)
		return log_err(E2BIG, "enter: more than %d groups", ABI_ENTER_MAX_GROUPS);
	if (r->ngroups) // groups may be NULL when there are none
		memcpy(h.groups, r->groups, r->ngroups * sizeof(h.groups[0]));
	if (r->nrlimits > ABI_ENTER_MAX_RLIMITS)
		return log_err(E2BIG, "enter: more than %d resource limits", ABI_ENTER_MAX_RLIMITS);
	h.nrlimits = (uint16_t)r->nrlimits;
	memcpy(h.rlimits, r->rlimits, r->nrlimits * sizeof(h.rlimits[0]));
	if (r->no_new_privs)
		h.flags |= ABI_ENTER_NO_NEW_PRIVS;
	if (r->container)
		h.flags |= ABI_ENTER_CONTAINER;
	if (r->bound_caps) {
		h.flags |= ABI_ENTER_BOUND_CAPS;
		h.caps = r->caps;
	}
	size_t off = sizeof(h), n = 2;
	bool fits = put(req, sizeof(req), &off, r->app) && put(req, sizeof(req), &off, r->cwd);
	for (char *const *a = r->argv; fits && *a; a++, h.argc++, n++)
		fits = put(req, sizeof(req), &off, *a);
	for (unsigned v = 0; fits && r->container && v < r->nvolumes; v++, h.nvolumes++, n++) {
		const struct vm_volume *vol = &r->volumes[v];
		char str[4096 + 3];
		int len = snprintf(str, sizeof(str), "%c%c%s", vol->readonly ? 'r' : 'w', vol->file ? 'f' : 'd',
				   vol->guest);
		fits = len > 0 && (size_t)len < sizeof(str) && put(req, sizeof(req), &off, str);
	}
	for (char *const *e = r->env; fits && e && *e; e++, n++)
		fits = put(req, sizeof(req), &off, *e);
	if (!fits || n > ABI_ENTER_MAX_STRINGS)
		return log_err(E2BIG, "enter: the command and its environment");
	h.size = (unsigned)(off - sizeof(h));
	if (r->tty) {
		h.flags |= ABI_ENTER_TTY;
		h.rows = r->rows;
		h.cols = r->cols;
	}
	memcpy(req, &h, sizeof(h));
	int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
	int sent = fdpass_send(s, req, off, fds, 3);
	return sent < 0 ? log_err(sent, "enter: sending the request") : 0;
}

int enter_send_memory(int s, uint32_t mib)
{
	struct abi_enter_header h = {.size = 1, .flags = ABI_ENTER_MEMORY, .memory_mib = mib};
	uint8_t req[sizeof(h) + 1] = {0}; // and no app: ""
	memcpy(req, &h, sizeof(h));
	int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
	int sent = fdpass_send(s, req, sizeof(req), fds, 3);
	return sent < 0 ? log_err(sent, "update: sending the request") : 0;
}

// The signals passed on: every one a process can catch, but SIGCHLD and SIGURG (about this
// process, not for its command), SIGPIPE (the session's socket) and SIGWINCH (a resize).
static bool passed_on(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGURG &&
	       sig != SIGPIPE && sig != SIGWINCH;
}

int enter_wait(int s, int tty_fd)
{
	sigset_t set, old;
	sigemptyset(&set);
	// Taken even where this process was started with them ignored (an engine's shim may start
	// it so): an ignored signal would be dropped before the signalfd saw it.
	for (int sig = 1; sig < 32; sig++)
		if ((passed_on(sig) || (sig == SIGWINCH && tty_fd >= 0)) &&
		    sigaddset(&set, sig) == 0)
			signal(sig, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, &old);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return log_err(errno, "enter: signalfd");
	uint8_t st[4];
	size_t got = 0;
	int r = 0;
	while (got < sizeof(st) && r == 0) {
		struct pollfd p[2] = {{.fd = s, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			r = errno == EINTR ? 0 : log_err(errno, "enter: poll");
			continue;
		}
		struct signalfd_siginfo si;
		if ((p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			struct abi_control m = {.kind = ABI_CONTROL_SIGNAL,
						.signal = (uint8_t)si.ssi_signo};
			struct winsize ws;
			if (si.ssi_signo == SIGWINCH) {
				m.kind = ABI_CONTROL_RESIZE;
				if (ioctl(tty_fd, TIOCGWINSZ, &ws) < 0)
					continue;
				m.rows = ws.ws_row;
				m.cols = ws.ws_col;
			}
			log_debug("enter: passing on signal %u", si.ssi_signo);
			if (send(s, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
				log_debug("enter: signal %u not passed on: %s", si.ssi_signo,
					  strerror(errno));
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(s, st + got, sizeof(st) - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || errno != EINTR)
			r = log_err(n == 0 ? 0 : errno,
				    "enter: the VM ended before the command did");
	}
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	uint32_t status;
	memcpy(&status, st, sizeof(status));
	return (int)(status & 0xff);
}
