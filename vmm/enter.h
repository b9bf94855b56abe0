// SPDX-License-Identifier: Apache-2.0
// Enter sessions, the VMM's side (enter.c): a unix socket taking up to ABI_ENTER_SESSIONS
// sessions at once, for rkt enter in a pod and OCI exec in a container.
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../guest-init/abi.h"
#include "virtio/devices.h"

struct io_thread;

// One session (guest-init/abi.h): its client from accept to the answer, then until the guest
// says the session is done.
struct enter_session {
	int client;     // the session's connection, -1: none (or gone mid-session)
	int fds[3];     // the client's stdin, stdout, stderr
	bool awaiting;  // the client is connected, its request not yet read
	bool running;   // the request went to the guest, its status has not come back
	bool busy;      // in use in the guest until it says the session is done
	uint8_t msg[8]; // a client's control message being read (struct abi_control)
	size_t msg_len;
	struct console_pump in; // the client's stdin into the session's stdin port
};

struct enter {
	int listen_fd; // -1: no enter socket
	struct enter_session s[ABI_ENTER_SESSIONS];
};

// The door, then each session's client and its stdin.
#define ENTER_POLLFDS (1 + 2 * ABI_ENTER_SESSIONS)
#define ENTER_MAX_FDS 16 // fds one request may bring: more than that are closed unread

void enter_init(struct enter *e);
// Listens on the abstract socket `name`. 0 or -errno (logged).
int enter_listen(struct io_thread *io, const char *name);
// Takes fd, a socket already listening (an OCI container's, made by create), as the door.
int enter_adopt(struct io_thread *io, int fd);
void enter_close(struct enter *e);
// The I/O thread's share: fills ENTER_POLLFDS entries (the door while a session is free; each
// session's client, for its request and then its control messages; its stdin while the port
// has taken all of it), then acts on them.
void enter_pollfds(struct io_thread *io, struct pollfd *fds);
void enter_events(struct io_thread *io, const struct pollfd *fds);
// The I/O thread, from the guest ports: session's command ended with status (its output is all
// out: console output is written before the guest goes on to report); the session is over in
// the guest.
void enter_guest_status(struct io_thread *io, unsigned session, int status);
void enter_guest_done(struct io_thread *io, unsigned session);
