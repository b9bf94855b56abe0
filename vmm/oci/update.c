// SPDX-License-Identifier: Apache-2.0
// update: a running container's resources, as runc update takes them: -r FILE (or - for
// stdin) with a linux.resources object, as containerd's shim sends it, and runc's flags, which
// override the file's values. A VM's vCPUs and RAM are fixed at create; what changes is how
// much of that RAM its guest may use (a memory limit: the VMM's balloon takes the rest back,
// and gives it again up to all of it), and what the host grants its VMM: CPU time (cpu.max,
// cpu.weight) and CPUs and memory nodes (cpuset) in the cgroup clearvm made for it
// (linux.cgroupsPath). Everything is checked before anything is written (resources.c refuses
// what a VM cannot take; the VMM a memory limit above its RAM, before the CPUs' settings).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../enter_client.h"
#include "../files.h"
#include "../util.h"
#include "bundle.h"
#include "command.h"
#include "resources.h"
#include "state.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define RESOURCES_JSON_MAX (1 << 20)

// runc's byte sizes: a number, with k, m or g (and an optional b) after it.
static bool parse_bytes(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno || v < -1)
		return false;
	int shift = 0;
	switch (*end | 0x20) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	default: break;
	}
	if (shift && (*end | 0x20) == 'b')
		end++;
	if (*end || (shift && (v < 0 || v > (INT64_MAX >> shift))))
		return false;
	*out = (int64_t)v << shift;
	return true;
}

// flag -> where it goes in the resources object, and whether its value is a string.
static const struct {
	const char *flag, *object, *key;
	bool string, bytes;
} flags[] = {
	{"--cpu-period", "cpu", "period", false, false},  {"--cpu-quota", "cpu", "quota", false, false},
	{"--cpu-share", "cpu", "shares", false, false},	  {"--cpuset-cpus", "cpu", "cpus", true, false},
	{"--cpuset-mems", "cpu", "mems", true, false},	  {"--memory", "memory", "limit", false, true},
	{"--pids-limit", "pids", "limit", false, false},
};

static int set_flag(json_object *res, unsigned f, const char *value)
{
	json_object *obj = NULL;
	if (!json_object_object_get_ex(res, flags[f].object, &obj) ||
	    !json_object_is_type(obj, json_type_object)) {
		obj = json_object_new_object();
		json_object_object_add(res, flags[f].object, obj);
	}
	int64_t n = 0;
	if (flags[f].string) {
		json_object_object_add(obj, flags[f].key, json_object_new_string(value));
		return 0;
	}
	char *end;
	errno = 0;
	if (flags[f].bytes ? !parse_bytes(value, &n) : ((n = strtoll(value, &end, 10)), end == value || *end || errno))
		return log_err(0, "update: %s %s: not a number", flags[f].flag, value);
	json_object_object_add(obj, flags[f].key, json_object_new_int64(n));
	return 0;
}

// The resources object: -r's file, then the flags over it. Its JSON text (malloc'd), or NULL
// (logged); *id the container's.
static char *read_request(int argc, char **argv, const char **id)
{
	const char *file = NULL;
	json_object *res = NULL;
	*id = NULL;
	int r = 0;
	for (int i = 0; i < argc && r == 0; i++) // -r first: the flags go over it
		if (opt_value(argc, argv, &i, "--resources", &file) || opt_value(argc, argv, &i, "-r", &file))
			break;
	if (file) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		_cleanup_close_ int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : -1;
		r = strcmp(file, "-") && fd < 0 ? -errno
						: fd_read_all(fd < 0 ? STDIN_FILENO : fd, RESOURCES_JSON_MAX, &text, &len);
		if (r < 0)
			log_err(r, "update: resources %s", file);
		else if (!(res = json_tokener_parse(text)) || !json_object_is_type(res, json_type_object))
			r = log_err(0, "update: resources %s: not a JSON object", file);
	}
	if (r == 0 && !res)
		res = json_object_new_object();
	for (int i = 0; i < argc && r == 0; i++) {
		const char *v;
		unsigned f = 0;
		if (opt_value(argc, argv, &i, "--resources", &v) || opt_value(argc, argv, &i, "-r", &v))
			continue;
		while (f < ARRAY_SIZE(flags) && !opt_value(argc, argv, &i, flags[f].flag, &v))
			f++;
		if (f < ARRAY_SIZE(flags))
			r = set_flag(res, f, v);
		else if (argv[i][0] == '-')
			r = log_err(0, "update: %s: not an option clearvm takes", argv[i]);
		else if (*id)
			r = log_err(0, "update: more than one container id");
		else
			*id = argv[i];
	}
	if (r == 0 && !*id)
		r = log_err(0, "update: no container id");
	char *text = r == 0 ? strdup(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN)) : NULL;
	json_object_put(res);
	return text;
}

static int cg_write(const char *dir, const char *file, const char *value)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = write_setting(path, value);
	return r < 0 ? log_err(r, "update: %s: writing %s", path, value) : 0;
}

// The controller handed down to the cgroup by each of its ancestors, the root's first.
static int enable_controller(const char *cgroup, const char *ctl)
{
	char dir[4096], plus[16];
	snprintf(dir, sizeof(dir), "%s", cgroup);
	snprintf(plus, sizeof(plus), "+%s", ctl);
	for (char *slash = dir + strlen(CGROUP_ROOT); (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		int r = cg_write(dir, "cgroup.subtree_control", plus);
		*slash = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

// cpu.max with what u changes: the quota, the period, or both (the other kept as it is).
static int write_cpu_max(const char *cgroup, const struct resources_update *u)
{
	char path[4200], now[32] = "", quota[32];
	snprintf(path, sizeof(path), "%s/cpu.max", cgroup);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	unsigned long long period = 100000;
	int r = fd < 0 ? -errno : fd_read_all(fd, 64, &text, &len);
	if (r < 0 || sscanf(text, "%31s %llu", now, &period) != 2)
		return log_err(r < 0 ? r : 0, "update: %s: unreadable", path);
	if (u->cpu_quota > 0)
		snprintf(quota, sizeof(quota), "%lld", (long long)u->cpu_quota);
	else
		snprintf(quota, sizeof(quota), "%s", u->cpu_quota < 0 ? "max" : now);
	char value[64];
	snprintf(value, sizeof(value), "%s %llu", quota,
		 u->cpu_period ? (unsigned long long)u->cpu_period : period);
	return cg_write(cgroup, "cpu.max", value);
}

static int apply(const char *cgroup, const struct resources_update *u)
{
	int r = 0;
	bool cpu = u->cpu_quota || u->cpu_period || u->cpu_weight, cpuset = u->cpus[0] || u->mems[0];
	r = r ?: (cpu ? enable_controller(cgroup, "cpu") : 0);
	r = r ?: (cpuset ? enable_controller(cgroup, "cpuset") : 0);
	if (r == 0 && u->cpu_weight) {
		char w[24];
		snprintf(w, sizeof(w), "%llu", (unsigned long long)u->cpu_weight);
		r = cg_write(cgroup, "cpu.weight", w);
	}
	r = r ?: (u->cpu_quota || u->cpu_period ? write_cpu_max(cgroup, u) : 0);
	r = r ?: (u->cpus[0] ? cg_write(cgroup, "cpuset.cpus", u->cpus) : 0);
	r = r ?: (u->mems[0] ? cg_write(cgroup, "cpuset.mems", u->mems) : 0);
	return r;
}

// The VM's memory, through its VMM's exec socket. 0, or -1 (said why: here, or by the VMM).
static int set_memory(const struct oci_state *s, const char *id, bool sandbox, uint32_t mib)
{
	if (sandbox)
		return log_err(0, "update: container %s is a pod's sandbox, which has no VM", id), -1;
	if (mib > s->ram_mib)
		return log_err(0, "update: memory.limit: the VM of container %s has %llu MiB of RAM, "
				  "%llu for the container with the guest kernel's %d (its RAM is fixed "
				  "at create: it can be given less, not more)",
			       id, (unsigned long long)s->ram_mib,
			       (unsigned long long)(s->ram_mib - MIN(s->ram_mib, BUNDLE_MEMORY_OVERHEAD_MIB)),
			       BUNDLE_MEMORY_OVERHEAD_MIB),
		       -1;
	_cleanup_close_ int sock = oci_exec_connect(s->dir);
	if (sock < 0)
		return log_err(sock, "update: container %s: its VM's socket", id), -1;
	if (enter_send_memory(sock, mib) < 0)
		return -1;
	int status = enter_wait(sock, -1);
	return status == 0 ? 0 : -1;
}

int oci_update(struct oci_globals *g, int argc, char **argv)
{
	const char *id;
	_cleanup_free_ char *request = read_request(argc, argv, &id);
	struct oci_state s;
	if (!request || state_read(g->root_dir, id, &s) < 0)
		return OCI_FAILED;
	bool sandbox = bundle_annotations_sandbox(s.annotations);
	state_free(&s);
	if (s.pod[0]) // its resources are the VM's, which the pod's first container has
		return log_err(0, "update: container %s runs in the VM of the pod's container %s: "
				  "update that one", id, s.pod),
		       OCI_FAILED;
	struct resources_update u;
	if (resources_parse_update(request, &u) < 0)
		return OCI_FAILED;
	enum oci_status st = state_status(&s);
	if (st == OCI_STOPPED)
		return log_err(0, "update: container %s is stopped", id), OCI_FAILED;
	// The balloon is the VMM's I/O thread's to set: it runs from start, and stands still while
	// the VM is paused.
	if (u.memory && st != OCI_RUNNING)
		return log_err(0, "update: container %s is %s: its memory limit changes while it runs", id,
			       state_status_name(st)),
		       OCI_FAILED;
	bool cpu = resources_update_cpu(&u);
	if (cpu && (!s.cgroup[0] || strncmp(s.cgroup, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1) != 0))
		return log_err(0, "update: container %s has no cgroup of clearvm's to limit its CPUs in "
				  "(linux.cgroupsPath, cgroupfs style, on a cgroup v2 host)", id),
		       OCI_FAILED;
	if (u.memory && set_memory(&s, id, sandbox, u.memory_mib) < 0)
		return OCI_FAILED;
	return cpu && apply(s.cgroup, &u) < 0 ? OCI_FAILED : 0;
}
