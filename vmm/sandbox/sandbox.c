// SPDX-License-Identifier: Apache-2.0
// Thread confinement in the order each step allows: jail, open what is served, drop
// capabilities, seccomp.
#include <errno.h>

#include "../util.h"
#include "privs.h"
#include "sandbox.h"

int sandbox_enter_file_server(const struct jail_share *share, enum seccomp_mode mode,
			      int (*open)(void *ctx, const char *root, const char *fds), void *ctx,
			      const char **what)
{
	int r = jail_enter(share);
	bool jailed = r == 0;
	if (r < 0 && r != -EPERM) {
		*what = "confining the file server to it";
		return r;
	}
	if (!jailed && (share->file || share->nonrecursive)) { // only the jail can shape the share
		*what = share->file ? "sharing a single file needs root"
				    : "leaving out the mounts beneath a share needs root";
		return -EPERM;
	}
	if (!jailed)
		log_debug("9p %s: not root: served from the host's view, beneath the share only",
			  share->path);
	if ((r = open(ctx, jailed ? JAIL_SHARE : share->path, jailed ? JAIL_FDS : NULL)) < 0) {
		*what = NULL;
		return r;
	}
	if ((r = privs_confine_thread()) < 0) {
		*what = "dropping the file server's privileges";
		return r;
	}
	if ((r = seccomp_enter(SECCOMP_P9, mode)) < 0) {
		*what = "file server seccomp filter";
		return r;
	}
	return 0;
}
