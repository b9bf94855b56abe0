// SPDX-License-Identifier: Apache-2.0
// The confinement of clearvm's threads (sandbox.c, over jail.c, privs.c and seccomp.c): what a
// device thread calls to shut itself in, without knowing how.
#pragma once

#include "jail.h"
#include "seccomp.h"

// The calling file server thread is confined for `share`: jailed (root only: a mount
// namespace holding the share and the fd directory), then open(ctx, root, fds) opens what it
// serves from there (root: the share's path in the thread's view; fds: the fd directory, NULL
// outside a jail), then its capabilities are cut to what serving files needs and its seccomp
// role loaded. Each step needs what the one before gives up. 0 or -errno; *what says which
// step failed (NULL: open's own failure, which it logged).
int sandbox_enter_file_server(const struct jail_share *share, enum seccomp_mode mode,
			      int (*open)(void *ctx, const char *root, const char *fds), void *ctx,
			      const char **what);
