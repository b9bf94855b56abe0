// SPDX-License-Identifier: Apache-2.0
// An OCI bundle's config.json (runtime-spec 1.x) read into the configuration of one VM: what
// clearvm honours is mapped, what it cannot honour where it matters is refused (README's table).
#pragma once

#include <sys/types.h>

#include "../config.h"
#include "../owned.h"

#define BUNDLE_MEMORY_OVERHEAD_MIB 64 // the guest kernel, guest-init and the 9p page cache
// The MiB of RAM a VM gets for a memory limit of `limit` bytes (> 0): the limit rounded up to a
// MiB, and the guest kernel's share. At create (the VM's RAM) and at update (the guest's part).
static inline uint64_t bundle_memory_mib(uint64_t limit)
{
	return ((limit + (1 << 20) - 1) >> 20) + BUNDLE_MEMORY_OVERHEAD_MIB;
}
#define BUNDLE_ANNOTATION_PREFIX "io.clearvm." // annotations clearvm reads (the rest are echoed)
#define BUNDLE_ANNOTATION_FS "io.clearvm.fs"   // 9p | virtiofs: how the root is shared (--fs)
#define BUNDLE_ANNOTATION_VOLUME_FS "io.clearvm.volume-fs" // 9p | virtiofs: volumes (--volume-fs)
// What a Kubernetes pod's container is, as containerd's CRI and CRI-O say it ("sandbox" for the
// pod's pause container, "container" for its apps).
#define BUNDLE_ANNOTATION_CRI_TYPE "io.kubernetes.cri.container-type"
#define BUNDLE_ANNOTATION_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"

// Whether a container's annotations (JSON object text, as config.json and state.json hold them)
// make it a Kubernetes pod's sandbox.
bool bundle_annotations_sandbox(const char *annotations_json);

// Where the VM's network comes from (linux.namespaces "network").
enum bundle_netns {
	BUNDLE_NETNS_HOST, // no network namespace: passt on the host's network
	BUNDLE_NETNS_NEW,  // a new, empty one: loopback only, as runc would give
	BUNDLE_NETNS_PATH, // an existing one (the engine's): passt runs inside it
};

// A namespace of linux.namespaces given by path, other than the network one.
struct bundle_ns {
	const char *type, *path;
};

struct bundle {
	struct vm_config vm;
	const char *dir; // the bundle's directory, as given to bundle_parse
	// process.user.additionalGids: the workload's groups, exactly (config_check's lookup of
	// the user's groups in the rootfs is replaced by these).
	uint32_t groups[CONFIG_MAX_GROUPS];
	unsigned ngroups;
	uint32_t uid, gid; // process.user (0 when not given), also in vm.user as "uid:gid"
	enum bundle_netns netns;
	const char *netns_path;		     // BUNDLE_NETNS_PATH
	struct bundle_ns joined[8];	     // the others joined by path
	unsigned njoined;
	const char *annotations;	     // the annotations object as JSON text ("{}" when none)
	bool sandbox; // a Kubernetes pod's sandbox ("pause") container: nothing of it runs
	const char *cgroups_path;	     // linux.cgroupsPath (NULL: none)
	void *hooks; // the hooks object (json_object; NULL: none), run by create (hooks.c)
	uint16_t console_rows, console_cols; // process.consoleSize (0: not given)
	struct owned owned;		     // strings and argv arrays the config points to
	void *config; // the parsed JSON (json_object), which the strings above may point into
};

// Parses config.json's text for the bundle in directory dir (absolute). Fills vm's rootfs,
// argv, env, workdir, user, hostname, read_only, caps, volumes, memory, cpus and tty (with
// interactive: process.terminal); kernel,
// initramfs and the rest keep config_defaults' values. 0, or -errno with one line logged.
int bundle_parse(const char *text, size_t len, const char *dir, struct bundle *b);
// The namespaces b joins by path (but the network one): each must be that of the VMM of its
// pod's VM, pod_vmm (0: none; podman joins a pod's later containers to its infra container's),
// since every container of a pod shares the guest's. 0, or -1 with one line logged.
int bundle_check_namespaces(const struct bundle *b, pid_t pod_vmm);
// The text of one process object (runtime-spec's "process", as `exec --process` gives it) read
// into b as bundle_parse reads config.json's: argv, env, workdir, user, uid, gid, groups, tty,
// console size and capabilities. 0, or -errno with one line logged.
int bundle_parse_process(const char *text, size_t len, struct bundle *b);
// bundle_parse of dir/config.json.
int bundle_load(const char *dir, struct bundle *b);
void bundle_free(struct bundle *b);
