// SPDX-License-Identifier: Apache-2.0
// Confines the calling thread to one share, for the file server that serves it (jail.c).
#pragma once

#include <stdbool.h>

// Inside the jail the thread's "/" is a small read-only tmpfs holding exactly these two
// mount points: the share, and the process's own fd directory (the file server reopens its
// O_PATH fds through it).
#define JAIL_SHARE "/share"
#define JAIL_FDS "/fd"

// Gives the calling thread its own mount namespace whose root holds only the share
// (read-only when `readonly`, never devices or set-id) and the fd directory. Needs
// CAP_SYS_ADMIN: returns -EPERM without it, leaving the thread as it was. Other threads of
// the process are not affected. 0 or -errno.
int jail_enter(const char *share, bool readonly);
