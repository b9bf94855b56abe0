// SPDX-License-Identifier: Apache-2.0
// Confines the calling thread to one share, for the file server that serves it (jail.c).
#pragma once

#include <stdbool.h>

// Inside the jail the thread's "/" is a small read-only tmpfs holding exactly these two
// mount points: the share, and the process's own fd directory (the file server reopens its
// O_PATH fds through it).
#define JAIL_SHARE "/share"
#define JAIL_FDS "/fd"

// What a file server serves: a host directory, or one regular file (then JAIL_SHARE is a
// read-only directory whose one entry, ABI_FILE_VOLUME_ENTRY, is that file).
struct jail_share {
	const char *path;
	bool readonly;
	bool file;
	bool nonrecursive; // the mounts beneath path are left out
	bool propagate;	   // mounts the host makes beneath path later are seen in the jail too (with
			   // their own flags; path itself is read-only there)
};

// Gives the calling thread its own mount namespace whose root holds only the share
// (read-only when `readonly`, never devices or set-id) and the fd directory. Needs
// CAP_SYS_ADMIN: returns -EPERM without it, leaving the thread as it was. Other threads of
// the process are not affected. 0 or -errno (-EINVAL: a file share that is no regular file).
int jail_enter(const struct jail_share *share);
