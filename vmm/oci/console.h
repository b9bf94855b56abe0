// SPDX-License-Identifier: Apache-2.0
// A pty for the engine's console socket (console.c): the container's terminal, made at create
// (its slave becomes the VMM's stdin, stdout, stderr and controlling terminal, so a resize on
// the master reaches it as SIGWINCH), or an exec'd process's.
#pragma once

#include <stdint.h>

struct console {
	int master, slave;
};

// Makes the pty, rows x cols when both are given, and puts its slave on fds 0-2; the process's
// own errors keep going to the stderr it was given (log_fd). 0 or -errno (logged).
int console_open(struct console *con, uint16_t rows, uint16_t cols);
// Sends the master (SCM_RIGHTS, the pty's name as the data) to the engine's socket. 0 or
// -errno (logged).
int console_send(const struct console *con, const char *socket_path);
