// SPDX-License-Identifier: Apache-2.0
// The launch spec as guest-init reads it: every field checked and read at once, before any of
// it is used (spec_read.c). Pure: no system calls, so it is unit-tested and fuzzed on the host.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAUNCH_MAX_GROUPS 64
#define LAUNCH_MAX_VOLUMES 64
#define LAUNCH_MAX_RLIMITS 16

struct launch_rlimit {
	uint32_t resource; // below LAUNCH_MAX_RLIMITS
	uint64_t soft, hard; // soft <= hard
};

struct launch_volume {
	const char *tag, *target; // target: absolute
	bool readonly;
	bool file; // the share holds one file (ABI_FILE_VOLUME_ENTRY), bound at target
	bool virtiofs; // shared over virtio-fs, else 9p
	bool pod;      // the pod share (ABI_POD_DIR), not in the root
};

// A single container (the root node) or one app of a pod (an app@N node).
struct launch_workload {
	const char *name; // an app's name; NULL for a single container
	const char *root_tag;
	bool root_readonly;
	bool root_virtiofs; // the root is a virtio-fs share (else 9p)
	char **argv, **env; // NULL-terminated; argv never empty; the strings point into the FDT
	const char *cwd;
	uint32_t uid, gid;
	uint32_t groups[LAUNCH_MAX_GROUPS];
	size_t ngroups;
	struct launch_volume volumes[LAUNCH_MAX_VOLUMES];
	size_t nvolumes;
	char **pre_start; // run as root in its root before it (NULL: none)
	bool bound_caps;  // its capability bounding set is caps (bit N: capability N)
	uint64_t caps;
	struct launch_rlimit rlimits[LAUNCH_MAX_RLIMITS];
	size_t nrlimits;
	bool no_new_privs;
};

// eth0 (IPv4 in host byte order, IPv6 as on the wire), when the VM has a network card.
struct launch_net {
	uint32_t mtu;
	uint8_t mac[6];
	bool v4; // an IPv4 address and default route (none on an IPv6-only host)
	uint32_t address, gateway;
	unsigned prefix; // 1..32
	bool v6; // an IPv6 address and default route (one of the two at least)
	uint8_t address6[16], gateway6[16];
	unsigned prefix6; // 1..128
};

struct launch_spec {
	bool milestones, tty, stdin;
	bool tty_size; // tty_rows and tty_cols are given
	uint16_t tty_rows, tty_cols;
	const char *hostname;
	const char *resolv_conf, *hosts; // contents for every root's /etc files (NULL: its own)
	bool net; // a network card to set up, as `eth`
	struct launch_net eth;
	struct launch_workload *apps; // napps of them for a pod, else one: the single container
	unsigned napps;
	bool pod;
	bool exec; // serve exec sessions on the enter ports (a pod always does)
	// Given to a VM restored from a template (guest-init/abi.h).
	bool realtime;
	uint64_t realtime_ns;
	const uint8_t *seed;
	size_t seed_len;
};

// Checks the FDT of `size` bytes and reads it all into *s. 0; or -EINVAL (-E2BIG: more apps
// than max_apps, -ENOMEM) with *bad naming what is wrong. s points into fdt: keep it.
int launch_spec_read(const void *fdt, size_t size, unsigned max_apps, struct launch_spec *s,
		     const char **bad);
void launch_spec_free(struct launch_spec *s);
