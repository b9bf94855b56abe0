// SPDX-License-Identifier: Apache-2.0
// Unix sockets: connecting to one by path, passing fds over one (fdpass.c).
#pragma once

#include <stddef.h>

#define FDPASS_MAX 3 // the most one message carries: an enter client's stdin, stdout, stderr

// Connects a stream socket to the unix socket at path. The socket, or -errno (not logged).
int unix_connect(const char *path);
// Sends len bytes of data with nfds fds attached (SCM_RIGHTS) in one message. 0, or -errno
// (not logged: the caller says what was being sent).
int fdpass_send(int s, const void *data, size_t len, const int *fds, unsigned nfds);
