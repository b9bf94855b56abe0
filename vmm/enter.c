// SPDX-License-Identifier: Apache-2.0
// Enter sessions, the VMM's side: up to ABI_ENTER_SESSIONS at once on a listening unix socket, a pod's
// abstract one named after its directory (rkt enter; abstract: a pod directory may sit on a
// file system without sockets) or the one `clearvm create` made in an OCI container's state
// directory (exec). The client (enter_client.c) sends a request (struct abi_enter_header and
// its strings, the app's name first) with its stdin, stdout and stderr attached (SCM_RIGHTS);
// clearvm picks a free session, passes the request to guest-init, points that session's ports
// at the client's stdout and stderr, feeds its stdin in, passes on the signals and resizes the client sends (struct
// abi_control, SIGNAL or RESIZE), and answers with the command's 4-byte status. A client that
// goes away mid-session takes its command with it (SIGKILL): it was that command's host side.
// Runs on the I/O thread, which also takes the guest's status and end of session from the
// guest ports (guest_ports.c).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../guest-init/abi.h"
#include "enter.h"
#include "enter_client.h"
#include "evloop.h"
#include "vm.h"

static void close_client(struct enter_session *es)
{
	for (int i = 0; i < 3; i++)
		if (es->fds[i] >= 0)
			close(es->fds[i]);
	if (es->client >= 0)
		close(es->client);
	es->client = es->fds[0] = es->fds[1] = es->fds[2] = -1;
	es->in.open = es->awaiting = es->running = false;
	es->msg_len = 0;
}

int enter_listen(struct io_thread *io, const char *name)
{
	struct enter *e = &io->enter;
	struct sockaddr_un sa;
	socklen_t len = enter_address(name, &sa);
	e->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (e->listen_fd < 0 || bind(e->listen_fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(e->listen_fd, 8) < 0)
		return log_err(errno, "enter socket @%s", name);
	return 0;
}

int enter_adopt(struct io_thread *io, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_err(errno, "the exec socket");
	io->enter.listen_fd = fd;
	return 0;
}

void enter_init(struct enter *e)
{
	memset(e, 0, sizeof(*e));
	e->listen_fd = -1;
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++) {
		struct enter_session *es = &e->s[s];
		es->client = es->fds[0] = es->fds[1] = es->fds[2] = -1;
	}
}

void enter_close(struct enter *e)
{
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++)
		close_client(&e->s[s]);
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	e->listen_fd = -1;
}

static void answer(struct enter_session *es, int status)
{
	uint32_t st = (uint32_t)status;
	if (es->client >= 0 && write(es->client, &st, sizeof(st)) < 0)
		log_debug("enter: the client left before its status");
	close_client(es);
}

// A session with no client and nothing of its own left in the guest; NULL when all are taken.
static struct enter_session *free_session(struct enter *e)
{
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++)
		if (e->s[s].client < 0 && !e->s[s].busy)
			return &e->s[s];
	return NULL;
}

// A new client in session es, non-blocking: checked at once, its request read when it comes (a
// client that connects and stalls must not hold the I/O thread, which forwards signals).
static void take_client(struct enter_session *es, int client)
{
	es->client = client;
	es->awaiting = true;
	// An abstract socket anyone on the host can reach: only root and clearvm's own user may
	// run commands in the pod.
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 ||
	    (peer.uid != 0 && peer.uid != geteuid())) {
		log_msg("enter: refused a client of uid %d", (int)peer.uid);
		answer(es, EXIT_CLEARVM_FAILED);
	}
}

// Keeps the client's stdin, stdout and stderr when exactly three fds came; closes every fd
// that came otherwise (all of them, over every control message: none may stay open here).
static void take_fds(struct enter_session *es, struct msghdr *msg)
{
	int got[ENTER_MAX_FDS], n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n < ENTER_MAX_FDS)
				got[n++] = fd;
			else
				close(fd); // cannot happen with the buffer's size, but never leak
		}
	}
	for (int i = 0; i < n; i++)
		if (n == 3)
			es->fds[i] = got[i];
		else
			close(got[i]);
}

// Writes msg to fd without stdio (whose first write probes the fd with an ioctl the I/O
// thread's seccomp role does not allow).
static void say(int fd, const char *msg)
{
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		log_debug("enter: cannot tell the client: %s", strerror(errno));
}

// ABI_ENTER_MEMORY: the guest may use `mib` of the VM's RAM (0: all of it), the rest held in
// the balloon. At least MEMORY_MIN_MIB: what the guest's kernel and guest-init need. 0 or 125.
#define MEMORY_MIN_MIB 64
static int set_memory(struct io_thread *io, struct enter_session *es, uint32_t mib)
{
	uint64_t ram = io->cfg->memory_mib;
	if (mib && (mib > ram || mib < MEMORY_MIN_MIB)) {
		char line[160];
		snprintf(line, sizeof(line),
			 "clearvm: update: %u MiB for the guest: this VM takes %d to %llu MiB (its RAM, "
			 "fixed when it was made)\n",
			 mib, MEMORY_MIN_MIB, (unsigned long long)ram);
		say(es->fds[2], line);
		return EXIT_CLEARVM_FAILED;
	}
	virtio_balloon_set_target(io->vm->balloon, mib ? (uint32_t)((ram - mib) << 8) : 0);
	log_debug("enter: the guest may use %llu of %llu MiB", (unsigned long long)(mib ?: ram),
		  (unsigned long long)ram);
	return 0;
}

// Session s's client's request: the header and strings in one message, the 3 fds with it.
static void take_request(struct io_thread *io, unsigned s)
{
	struct enter_session *es = &io->enter.s[s];
	static uint8_t req[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(es->client, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return; // not all there yet: polled again
	es->awaiting = false;
	if (n > 0)
		take_fds(es, &msg);
	struct abi_enter_header h;
	if (n < (ssize_t)sizeof(h) || es->fds[2] < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		answer(es, EXIT_CLEARVM_FAILED);
		return;
	}
	memcpy(&h, req, sizeof(h));
	const char *app = (const char *)req + sizeof(h);
	size_t size = (size_t)n - sizeof(h);
	bool whole = h.size == size && memchr(app, '\0', size) && h.ngroups <= ABI_ENTER_MAX_GROUPS &&
		     h.nrlimits <= ABI_ENTER_MAX_RLIMITS;
	if (whole && (h.flags & ABI_ENTER_MEMORY)) { // the VMM's own, no command
		answer(es, set_memory(io, es, h.memory_mib));
		return;
	}
	// A container's one workload, or (in a pod's VM) the pod's later containers, by name:
	// guest-init knows which it runs.
	bool pod_share = false;
	for (unsigned i = 0; i < io->cfg->nvolumes; i++)
		pod_share = pod_share || io->cfg->volumes[i].pod;
	bool known = whole && !io->cfg->napps && (!app[0] || pod_share);
	for (unsigned i = 0; whole && i < io->cfg->napps; i++)
		known = known || !strcmp(app, io->cfg->apps[i].app_name);
	if (!known) {
		char line[128];
		snprintf(line, sizeof(line), "clearvm: enter: no app named %.64s in this pod\n",
			 h.size == size ? app : "?");
		say(es->fds[2], line);
		answer(es, EXIT_CLEARVM_FAILED);
		return;
	}
	h.session = (uint16_t)s;
	memcpy(req, &h, sizeof(h));
	es->busy = es->running = true;
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDOUT(s), es->fds[1]);
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDERR(s), es->fds[2]);
	virtio_console_reopen(io->vm->console, ABI_PORT_ENTER_STDIN(s));
	es->in = (struct console_pump){.open = true};
	if (virtio_console_send_whole(io->vm->console, ABI_PORT_ENTER, req, (size_t)n) != n) {
		// Nothing of it reached the guest: the session is free again.
		say(es->fds[2], "clearvm: enter: the VM has not taken earlier requests yet; try again\n");
		enter_guest_status(io, s, EXIT_CLEARVM_FAILED);
		es->busy = false;
	}
}

void enter_pollfds(struct io_thread *io, struct pollfd *fds)
{
	struct enter *e = &io->enter;
	// The listening socket while a session is free; then each client, for its request and
	// its control messages.
	fds[0] = (struct pollfd){.fd = free_session(e) ? e->listen_fd : -1, .events = POLLIN};
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++) {
		struct enter_session *es = &e->s[s];
		fds[1 + 2 * s] = (struct pollfd){.fd = es->awaiting || es->running ? es->client : -1, .events = POLLIN};
		fds[2 + 2 * s] = (struct pollfd){.fd = virtio_console_pump_wants_input(&es->in) ? es->fds[0] : -1,
						 .events = POLLIN};
	}
}

// Session s's client's signals and resizes for its command, as ABI_CONTROL_ENTER_* messages;
// when it is gone (or breaks the protocol), its command is killed.
static void take_messages(struct io_thread *io, unsigned s)
{
	struct enter_session *es = &io->enter.s[s];
	ssize_t got = read(es->client, es->msg + es->msg_len, sizeof(es->msg) - es->msg_len); // non-blocking
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	struct abi_control m;
	if (got > 0 && (es->msg_len += (size_t)got) < sizeof(m))
		return;
	memcpy(&m, es->msg, sizeof(m));
	es->msg_len = 0;
	if (got > 0 && (m.kind == ABI_CONTROL_SIGNAL || m.kind == ABI_CONTROL_RESIZE)) {
		m.kind = m.kind == ABI_CONTROL_SIGNAL ? ABI_CONTROL_ENTER_SIGNAL : ABI_CONTROL_ENTER_RESIZE;
		m.session = (uint16_t)s;
		send_control(io, &m);
		return;
	}
	log_debug("enter: the client of session %u left mid-session: its command is killed", s);
	send_control(io, &(struct abi_control){.kind = ABI_CONTROL_ENTER_SIGNAL, .signal = SIGKILL,
					       .session = (uint16_t)s});
	close(es->client);
	es->client = -1;
}

void enter_events(struct io_thread *io, const struct pollfd *fds)
{
	struct enter *e = &io->enter;
	struct enter_session *next = free_session(e);
	if (fds[0].fd >= 0 && fds[0].fd == e->listen_fd && (fds[0].revents & POLLIN) && next) {
		int client = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (client >= 0)
			take_client(next, client);
	}
	for (unsigned s = 0; s < ABI_ENTER_SESSIONS; s++) {
		struct enter_session *es = &e->s[s];
		const struct pollfd *c = &fds[1 + 2 * s], *in = &fds[2 + 2 * s];
		bool ready = c->fd >= 0 && c->fd == es->client && c->revents;
		if (ready && es->awaiting)
			take_request(io, s);
		else if (ready && es->running)
			take_messages(io, s);
		// The client's stdin: read when it has more, sent on when the port has room (its
		// session's end, when the port is closed under it, ends the pump too).
		if (es->running)
			virtio_console_pump(io->vm->console, ABI_PORT_ENTER_STDIN(s), es->fds[0], &es->in,
					    in->fd >= 0 && (in->revents & (POLLIN | POLLHUP | POLLERR)));
	}
}

void enter_guest_status(struct io_thread *io, unsigned session, int status)
{
	if (session >= ABI_ENTER_SESSIONS || !io->enter.s[session].running)
		return;
	// Its stdin ends for the guest's helper.
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDOUT(session), -1);
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDERR(session), -1);
	virtio_console_close(io->vm->console, ABI_PORT_ENTER_STDIN(session));
	answer(&io->enter.s[session], status);
}

void enter_guest_done(struct io_thread *io, unsigned session)
{
	if (session < ABI_ENTER_SESSIONS)
		io->enter.s[session].busy = false;
}
