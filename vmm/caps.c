// SPDX-License-Identifier: Apache-2.0
// Linux capability names (CAP_CHOWN, ...) to their numbers, as appc isolators and OCI bundles
// give them.
#include <string.h>

#include "caps.h"
#include "util.h"

// By number (linux/capability.h).
static const char *const cap_names[] = {"CAP_CHOWN",
					"CAP_DAC_OVERRIDE",
					"CAP_DAC_READ_SEARCH",
					"CAP_FOWNER",
					"CAP_FSETID",
					"CAP_KILL",
					"CAP_SETGID",
					"CAP_SETUID",
					"CAP_SETPCAP",
					"CAP_LINUX_IMMUTABLE",
					"CAP_NET_BIND_SERVICE",
					"CAP_NET_BROADCAST",
					"CAP_NET_ADMIN",
					"CAP_NET_RAW",
					"CAP_IPC_LOCK",
					"CAP_IPC_OWNER",
					"CAP_SYS_MODULE",
					"CAP_SYS_RAWIO",
					"CAP_SYS_CHROOT",
					"CAP_SYS_PTRACE",
					"CAP_SYS_PACCT",
					"CAP_SYS_ADMIN",
					"CAP_SYS_BOOT",
					"CAP_SYS_NICE",
					"CAP_SYS_RESOURCE",
					"CAP_SYS_TIME",
					"CAP_SYS_TTY_CONFIG",
					"CAP_MKNOD",
					"CAP_LEASE",
					"CAP_AUDIT_WRITE",
					"CAP_AUDIT_CONTROL",
					"CAP_SETFCAP",
					"CAP_MAC_OVERRIDE",
					"CAP_MAC_ADMIN",
					"CAP_SYSLOG",
					"CAP_WAKE_ALARM",
					"CAP_BLOCK_SUSPEND",
					"CAP_AUDIT_READ",
					"CAP_PERFMON",
					"CAP_BPF",
					"CAP_CHECKPOINT_RESTORE"};

int cap_number(const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(cap_names); k++)
		if (!strcmp(cap_names[k], name))
			return (int)k;
	return -1;
}
