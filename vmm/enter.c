// SPDX-License-Identifier: Apache-2.0
// Enter sessions, the VMM's side: one session at a time on a listening unix socket, a pod's
// abstract one named after its directory (rkt enter; abstract: a pod directory may sit on a
// file system without sockets) or the one `clearvm create` made in an OCI container's state
// directory (exec). The client (enter_client.c) sends a request (struct abi_enter_header and
// its strings, the app's name first) with its stdin, stdout and stderr attached (SCM_RIGHTS);
// clearvm passes the request to guest-init, points the enter ports at the client's stdout and
// stderr, feeds its stdin in, passes on the signals and resizes the client sends (struct
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

static void close_client(struct enter *e)
{
	for (int i = 0; i < 3; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	if (e->client >= 0)
		close(e->client);
	e->client = e->fds[0] = e->fds[1] = e->fds[2] = -1;
	e->in.open = e->awaiting = e->session = false;
	e->msg_len = 0;
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
	e->listen_fd = e->client = e->fds[0] = e->fds[1] = e->fds[2] = -1;
}

void enter_close(struct enter *e)
{
	close_client(e);
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	e->listen_fd = -1;
}

static void answer(struct enter *e, int status)
{
	uint32_t st = (uint32_t)status;
	if (e->client >= 0 && write(e->client, &st, sizeof(st)) < 0)
		log_debug("enter: the client left before its status");
	close_client(e);
}

// A new client, non-blocking: checked at once, its request read when it comes (a client that
// connects and stalls must not hold the I/O thread, which forwards signals).
static void take_client(struct io_thread *io, int client)
{
	struct enter *e = &io->enter;
	e->client = client;
	e->awaiting = true;
	// An abstract socket anyone on the host can reach: only root and clearvm's own user may
	// run commands in the pod.
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 ||
	    (peer.uid != 0 && peer.uid != geteuid())) {
		log_msg("enter: refused a client of uid %d", (int)peer.uid);
		answer(e, EXIT_CLEARVM_FAILED);
	}
}

// Keeps the client's stdin, stdout and stderr when exactly three fds came; closes every fd
// that came otherwise (all of them, over every control message: none may stay open here).
static void take_fds(struct enter *e, struct msghdr *msg)
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
			e->fds[i] = got[i];
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

// The client's request: the header and strings in one message, the 3 fds with it.
static void take_request(struct io_thread *io)
{
	struct enter *e = &io->enter;
	static uint8_t req[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(e->client, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return; // not all there yet: polled again
	e->awaiting = false;
	if (n > 0)
		take_fds(e, &msg);
	struct abi_enter_header h;
	if (n < (ssize_t)sizeof(h) || e->fds[2] < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		answer(e, EXIT_CLEARVM_FAILED);
		return;
	}
	memcpy(&h, req, sizeof(h));
	const char *app = (const char *)req + sizeof(h);
	size_t size = (size_t)n - sizeof(h);
	bool whole = h.size == size && memchr(app, '\0', size) && h.ngroups <= ABI_ENTER_MAX_GROUPS;
	bool known = whole && !io->cfg->napps && !app[0]; // a container's one workload
	for (unsigned i = 0; whole && i < io->cfg->napps; i++)
		known = known || !strcmp(app, io->cfg->apps[i].app_name);
	if (!known) {
		char line[128];
		snprintf(line, sizeof(line), "clearvm: enter: no app named %.64s in this pod\n",
			 h.size == size ? app : "?");
		say(e->fds[2], line);
		answer(e, EXIT_CLEARVM_FAILED);
		return;
	}
	e->busy = e->session = true;
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDOUT, e->fds[1]);
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDERR, e->fds[2]);
	virtio_console_reopen(io->vm->console, ABI_PORT_ENTER_STDIN);
	e->in = (struct console_pump){.open = true};
	if (virtio_console_send(io->vm->console, ABI_PORT_ENTER, req, (size_t)n) != n) {
		log_err(0, "enter: the request did not fit the enter port");
		answer(e, EXIT_CLEARVM_FAILED);
	}
}

void enter_pollfds(struct io_thread *io, struct pollfd *fds)
{
	struct enter *e = &io->enter;
	// The listening socket while no one is in; then the new client until its request is in.
	int door = e->awaiting ? e->client : !e->busy && e->client < 0 ? e->listen_fd : -1;
	fds[0] = (struct pollfd){.fd = door, .events = POLLIN};
	fds[1] = (struct pollfd){.fd = virtio_console_pump_wants_input(&e->in) ? e->fds[0] : -1, .events = POLLIN};
	fds[2] = (struct pollfd){.fd = e->session ? e->client : -1, .events = POLLIN};
}

// The client's signals and resizes for its command, as ABI_CONTROL_ENTER_* messages; when it
// is gone (or breaks the protocol), its command is killed.
static void take_messages(struct io_thread *io)
{
	struct enter *e = &io->enter;
	ssize_t got = read(e->client, e->msg + e->msg_len, sizeof(e->msg) - e->msg_len); // non-blocking
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	struct abi_control m;
	if (got > 0 && (e->msg_len += (size_t)got) < sizeof(m))
		return;
	memcpy(&m, e->msg, sizeof(m));
	e->msg_len = 0;
	if (got > 0 && (m.kind == ABI_CONTROL_SIGNAL || m.kind == ABI_CONTROL_RESIZE)) {
		m.kind = m.kind == ABI_CONTROL_SIGNAL ? ABI_CONTROL_ENTER_SIGNAL : ABI_CONTROL_ENTER_RESIZE;
		send_control(io, &m);
		return;
	}
	log_debug("enter: the client left mid-session: its command is killed");
	send_control(io, &(struct abi_control){.kind = ABI_CONTROL_ENTER_SIGNAL, .signal = SIGKILL});
	close(e->client);
	e->client = -1;
}

void enter_events(struct io_thread *io, const struct pollfd *fds)
{
	struct enter *e = &io->enter;
	if (fds[0].fd >= 0 && fds[0].fd == e->listen_fd && (fds[0].revents & POLLIN)) {
		int client = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (client >= 0)
			take_client(io, client);
	} else if (e->awaiting && fds[0].fd == e->client && fds[0].revents) {
		take_request(io);
	}
	if (e->session && e->client >= 0 && fds[2].fd == e->client && fds[2].revents)
		take_messages(io);
	// The client's stdin: read when it has more, sent on when the port has room (its session's
	// end, when the port is closed under it, ends the pump too).
	if (e->session)
		virtio_console_pump(io->vm->console, ABI_PORT_ENTER_STDIN, e->fds[0], &e->in,
				    fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)));
}

void enter_guest_status(struct io_thread *io, int status)
{
	struct enter *e = &io->enter;
	if (!e->session)
		return;
	// Its stdin ends for the guest's helper.
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDOUT, -1);
	virtio_console_set_fd(io->vm->console, ABI_PORT_ENTER_STDERR, -1);
	virtio_console_close(io->vm->console, ABI_PORT_ENTER_STDIN);
	answer(e, status);
}

void enter_guest_done(struct io_thread *io)
{
	io->enter.busy = false;
}
