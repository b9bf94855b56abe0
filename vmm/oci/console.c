// SPDX-License-Identifier: Apache-2.0
// The pty of a container (create) or of an exec'd process given to the engine: made here, its
// master sent over the engine's console socket.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../fdpass.h"
#include "../util.h"
#include "console.h"

int console_open(struct console *con, uint16_t rows, uint16_t cols)
{
	con->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (con->master < 0 || grantpt(con->master) < 0 || unlockpt(con->master) < 0)
		return log_err(errno, "--console-socket: a pty");
	const char *name = ptsname(con->master);
	con->slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
	if (con->slave < 0)
		return log_err(errno, "--console-socket: the pty's slave");
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	if (rows && cols)
		ioctl(con->master, TIOCSWINSZ, &ws);
	if (log_fd < 0 && (log_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0)
		return log_err(errno, "dup");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(con->slave, fd) < 0)
			return log_err(errno, "dup2");
	return 0;
}

// Sends the master (SCM_RIGHTS, the pty's name as the data) to the engine's socket.
int console_send(const struct console *con, const char *socket_path)
{
	int s = unix_connect(socket_path);
	if (s < 0)
		return log_err(s, "--console-socket %s", socket_path);
	char name[64];
	snprintf(name, sizeof(name), "%s",
		 ptsname(con->master) ? ptsname(con->master) : "/dev/ptmx");
	int r = fdpass_send(s, name, strlen(name), &con->master, 1);
	if (r < 0)
		log_err(r, "--console-socket %s", socket_path);
	close(s);
	return r;
}
