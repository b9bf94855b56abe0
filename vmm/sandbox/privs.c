// SPDX-License-Identifier: Apache-2.0
// What clearvm keeps of its privileges once the VM is built: the file server threads keep the
// capabilities needed to act on any owner's files (when run as root), every other thread none;
// nothing inheritable or ambient, no new privileges through exec, no inherited fds, bounded
// fds and memory, and no core dumps (a core would hold the guest's memory).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"
#include "../util.h"

#define VMM_MAX_FDS 131072 // a virtio-fs root's 65536 nodes, or 9 shares x 4096 9p fids, and the rest
#define VMM_MAX_DATA (1ULL << 30)   // the VMM's own private memory (guest RAM is shared: not in it)

// The file server's: chown (CHOWN), read, write and search any file (DAC_OVERRIDE,
// DAC_READ_SEARCH: also linkat of an fd), chmod and utimes of any file (FOWNER), keep set-id
// bits on write (FSETID).
#define FILE_SERVER_CAPS ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_DAC_READ_SEARCH) | \
		   (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID))

int privs_inherited_fds(int *fds, int max, int keep)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || e->d_name[0] == '.' || fd < 3 || fd == self || fd == keep)
			continue;
		fds[n++] = (int)fd;
	}
	closedir(d);
	return n;
}

// The calling thread keeps only `keep`: in its effective and permitted sets and in its
// bounding set (dropping from that needs CAP_SETPCAP, so it goes first; without it, not root,
// there is nothing to drop); none ambient or inheritable; no new privileges through exec.
static int drop_caps(uint64_t keep)
{
	for (unsigned long c = 0; c <= 63; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL &&
		    errno != EPERM)
			return log_err(errno, "dropping capability %lu", c);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &h, data) < 0)
		return log_err(errno, "capget");
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		data[i].effective &= k;
		data[i].permitted &= k;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, data) < 0)
		return log_err(errno, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_err(errno, "no_new_privs");
	return 0;
}

int privs_confine_thread(void)
{
	return drop_caps(FILE_SERVER_CAPS);
}

int privs_drop(const int *inherited, int ninherited, uint64_t guest_ram)
{
	for (int i = 0; i < ninherited; i++)
		close(inherited[i]);
	// The fd budget: a file server holds an fd per file the guest holds (virtio-fs: each it has
	// looked up). Root raises its limit to the budget while it still may; others are held to
	// their hard limit, and a lookup past it fails with EMFILE in the guest.
	struct rlimit fds = {VMM_MAX_FDS, VMM_MAX_FDS};
	if (setrlimit(RLIMIT_NOFILE, &fds) < 0 && getrlimit(RLIMIT_NOFILE, &fds) == 0) {
		fds.rlim_cur = fds.rlim_max = MIN(fds.rlim_max, (rlim_t)VMM_MAX_FDS);
		setrlimit(RLIMIT_NOFILE, &fds);
	}
	int r = drop_caps(0);
	if (r < 0)
		return r;
	// Guest RAM restored from a template is a private mapping, which Linux counts as data.
	rlim_t data = (rlim_t)(VMM_MAX_DATA + guest_ram);
	struct rlimit data_lim = {data, data}, core = {0, 0};
	if (setrlimit(RLIMIT_DATA, &data_lim) < 0 || setrlimit(RLIMIT_CORE, &core) < 0)
		return log_err(errno, "resource limits");
	return 0;
}
