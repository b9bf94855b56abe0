// SPDX-License-Identifier: Apache-2.0
// The client of an enter session (enter_client.c): rkt enter and `clearvm exec` send a
// command to a running VM's enter socket and stand for it on the host until it ends.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../guest-init/abi.h"
#include "config.h"

struct enter_request {
	const char *app;		// a pod's app; "" for an OCI container's workload
	const char *cwd;		// absolute
	char *const *argv, *const *env; // NULL-terminated; env is the command's whole environment
	uint32_t uid, gid;
	const uint32_t *groups; // exactly these supplementary groups
	unsigned ngroups;
	bool tty; // the command gets a pty of rows x cols (0: unknown) in the guest
	uint16_t rows, cols;
	struct abi_rlimit rlimits[ABI_ENTER_MAX_RLIMITS]; // the first nrlimits are set for it
	unsigned nrlimits;
	bool no_new_privs;
	// A pod's later container (ABI_ENTER_CONTAINER, app its name) with these volumes; or, with
	// bound_caps, an exec into one.
	bool container;
	const struct vm_volume *volumes;
	unsigned nvolumes;
	bool bound_caps; // the command's capabilities are bounded to caps
	uint64_t caps;
};

// The abstract socket address for name (no file; reachable host-wide, so the server checks
// who connects).
socklen_t enter_address(const char *name, struct sockaddr_un *sa);
// Connects to the session socket: a pod's abstract name (abstract) or a path. The socket, or
// -errno (not logged: the caller knows what a missing socket means).
int enter_connect(const char *name, bool abstract);
// Sends the request on s with this process's stdin, stdout and stderr, which become the
// command's. 0 or -errno (logged).
int enter_send(int s, const struct enter_request *r);
// Asks the VM to let its guest use mib MiB of its RAM (0: all of it; ABI_ENTER_MEMORY), with
// this process's stdio (where the VMM says why it refuses); its answer comes as a command's
// status would (enter_wait): 0, or 125. 0 or -errno (logged).
int enter_send_memory(int s, uint32_t mib);
// Waits for the command's status (exit code, or 128+N for signal N), passing the signals this
// process gets on to the command and, with tty_fd >= 0, SIGWINCH as the new size of tty_fd.
// The status, or -errno (logged) when the VM ended first.
int enter_wait(int s, int tty_fd);
