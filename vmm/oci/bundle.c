// SPDX-License-Identifier: Apache-2.0
// config.json -> struct vm_config. Each field is either honoured, left to the VM (the guest
// makes its own /proc, /dev, ...; the VM is the boundary that the host's LSM and seccomp
// settings would otherwise draw), or refused with one line naming the field.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../caps.h"
#include "../files.h"
#include "../json.h"
#include "../owned.h"
#include "../util.h"
#include "bundle.h"

#define CONFIG_JSON_MAX (4 << 20)

static int refuse(const char *field, const char *why)
{
	return log_err(0, "config.json: %s: %s", field, why);
}

static bool is_uint32(json_object *v)
{
	return v && json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
	       json_object_get_int64(v) <= UINT32_MAX;
}

static int read_user(struct bundle *b, json_object *user)
{
	struct vm_config *c = &b->vm;
	json_object *uid = get(user, "uid", json_type_int), *gid = get(user, "gid", json_type_int);
	if (user && (!is_uint32(uid) || !is_uint32(gid)))
		return refuse("process.user", "needs numeric uid and gid");
	if (get(user, "username", json_type_string))
		return refuse("process.user.username", "not supported (give uid and gid)");
	b->uid = uid ? (uint32_t)json_object_get_int64(uid) : 0;
	b->gid = gid ? (uint32_t)json_object_get_int64(gid) : 0;
	if (uid &&
	    !(c->user = owned_printf(&b->owned, "%u:%u", (unsigned)json_object_get_int64(uid),
				     (unsigned)json_object_get_int64(gid))))
		return -ENOMEM;
	json_object *extra = get(user, "additionalGids", json_type_array);
	size_t n = extra ? json_object_array_length(extra) : 0;
	if (n > CONFIG_MAX_GROUPS)
		return refuse("process.user.additionalGids", "too many groups");
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(extra, i);
		if (!is_uint32(g))
			return refuse("process.user.additionalGids", "not a list of group ids");
		b->groups[i] = (uint32_t)json_object_get_int64(g);
	}
	b->ngroups = (unsigned)n;
	return 0;
}

// process.rlimits: [{"type": "RLIMIT_NOFILE", "soft": N, "hard": N}, ...], set in the guest.
static int read_rlimits(struct vm_config *c, json_object *list)
{
	static const char *const names[CONFIG_MAX_RLIMITS] = {
	    "CPU",   "FSIZE",  "DATA",	  "STACK", "CORE",	 "RSS",	     "NPROC", "NOFILE",
	    "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};
	size_t n = list ? json_object_array_length(list) : 0;
	if (n > CONFIG_MAX_RLIMITS)
		return refuse("process.rlimits", "more limits than Linux has");
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(list, i);
		const char *type = get_str(l, "type");
		json_object *soft = get(l, "soft", json_type_int), *hard = get(l, "hard", json_type_int);
		unsigned k = 0;
		while (type && !strncmp(type, "RLIMIT_", 7) && k < CONFIG_MAX_RLIMITS && strcmp(type + 7, names[k]))
			k++;
		if (!type || strncmp(type, "RLIMIT_", 7) || k == CONFIG_MAX_RLIMITS)
			return log_err(0, "config.json: process.rlimits[%zu]: unknown type %s", i,
				       type ? type : "(none)");
		// json-c reads numbers above INT64_MAX (RLIM_INFINITY) as UINT64_MAX.
		uint64_t s = soft ? json_object_get_uint64(soft) : 0, h = hard ? json_object_get_uint64(hard) : 0;
		if (!soft || !hard || s > h)
			return log_err(0, "config.json: process.rlimits[%zu]: needs soft <= hard", i);
		c->rlimits[c->nrlimits++] = (struct vm_rlimit){.resource = k, .soft = s, .hard = h};
	}
	return 0;
}

static int read_process(struct bundle *b, json_object *p)
{
	struct vm_config *c = &b->vm;
	if (!p)
		return refuse("process", "missing");
	json_object *args = get(p, "args", json_type_array);
	if (!args || json_object_array_length(args) == 0)
		return refuse("process.args", "missing or empty");
	// A terminal: the workload's stdio is a pty in the guest, mirrored on the pty whose master
	// create sends to the engine's console socket.
	c->tty = c->interactive = get_bool(p, "terminal");
	json_object *size = get(p, "consoleSize", json_type_object);
	json_object *h = get(size, "height", json_type_int), *w = get(size, "width", json_type_int);
	if (h && w && json_object_get_int64(h) > 0 && json_object_get_int64(h) <= UINT16_MAX &&
	    json_object_get_int64(w) > 0 && json_object_get_int64(w) <= UINT16_MAX) {
		b->console_rows = (uint16_t)json_object_get_int64(h);
		b->console_cols = (uint16_t)json_object_get_int64(w);
	}
	if (get(p, "commandLine", json_type_string))
		return refuse("process.commandLine", "Windows only");
	size_t bad;
	if (!(c->argv = owned_argv(&b->owned, args, &bad)))
		return bad == SIZE_MAX
			   ? -ENOMEM
			   : log_err(0, "config.json: process.args[%zu]: not a string", bad);
	int r = 0;
	json_object *env = get(p, "env", json_type_array);
	for (size_t i = 0; r == 0 && env && i < json_object_array_length(env); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(env, i));
		if (!kv || !strchr(kv, '=') || kv[0] == '=')
			return log_err(0, "config.json: process.env[%zu]: not KEY=VALUE", i);
		r = config_set_env(c, kv);
	}
	if (r < 0)
		return r;
	const char *cwd = get_str(p, "cwd");
	if (cwd && cwd[0] != '/')
		return refuse("process.cwd", "not an absolute path");
	c->workdir = cwd ? cwd : "/";
	if ((r = read_user(b, get(p, "user", json_type_object))) < 0 ||
	    (r = read_rlimits(c, get(p, "rlimits", json_type_array))) < 0)
		return r;
	c->no_new_privs = get_bool(p, "noNewPrivileges");
	// The workload's capability bounding set (its effective set follows it in the guest).
	json_object *caps =
	    get(get(p, "capabilities", json_type_object), "bounding", json_type_array);
	if (caps) {
		c->bound_caps = true;
		c->caps = 0;
		for (size_t i = 0; i < json_object_array_length(caps); i++) {
			const char *name =
			    json_object_get_string(json_object_array_get_idx(caps, i));
			int k = name ? cap_number(name) : -1;
			if (k < 0)
				return log_err(
				    0, "config.json: process.capabilities: unknown capability %s",
				    name ? name : "(not a string)");
			c->caps |= 1ULL << k;
		}
	}
	return 0;
}

// The file systems guest-init makes in every VM, at the paths a container expects them.
static bool guest_made(const char *type, const char *dest)
{
	static const char *const made[][2] = {
	    {"proc", "/proc"},
	    {"sysfs", "/sys"},
	    {"tmpfs", "/dev"},
	    {"devtmpfs", "/dev"},
	    {"devpts", "/dev/pts"},
	    {"tmpfs", "/dev/shm"},
	    {"shm", "/dev/shm"},
	    {"tmpfs", "/run"},
	    {"tmpfs", "/tmp"},
	    {"mqueue", "/dev/mqueue"},
	    {"cgroup", "/sys/fs/cgroup"},
	    {"cgroup2", "/sys/fs/cgroup"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(made); i++)
		if (!strcmp(type, made[i][0]) && !strcmp(dest, made[i][1]))
			return true;
	return false;
}

static bool has_option(json_object *opts, const char *name)
{
	for (size_t i = 0; opts && i < json_object_array_length(opts); i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
		if (o && !strcmp(o, name))
			return true;
	}
	return false;
}

// A bind mount: a 9p share of the host directory (or file) with the share's confinement.
static int read_bind(struct bundle *b, json_object *m, const char *dest, size_t i)
{
	struct vm_config *c = &b->vm;
	const char *src = get_str(m, "source");
	if (!src || !*src)
		return log_err(0, "config.json: mounts[%zu] (%s): a bind mount needs a source", i,
			       dest);
	if (src[0] != '/' && !(src = owned_printf(&b->owned, "%s/%s", b->dir, src)))
		return -ENOMEM;
	struct stat st;
	if (stat(src, &st) < 0)
		return log_err(errno, "config.json: mounts[%zu]: %s", i, src);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return log_err(
		    0,
		    "config.json: mounts[%zu]: %s: only directories and regular files can "
		    "be shared into the VM",
		    i, src);
	if (c->nvolumes == CONFIG_MAX_VOLUMES)
		return log_err(0, "config.json: mounts: more than %d bind mounts",
			       CONFIG_MAX_VOLUMES);
	json_object *opts = get(m, "options", json_type_array);
	c->volumes[c->nvolumes++] = (struct vm_volume){
	    .host = src,
	    .guest = dest,
	    .readonly = has_option(opts, "ro"),
	    .file = S_ISREG(st.st_mode),
	    .nonrecursive = !has_option(opts, "rbind"),
	};
	return 0;
}

static int read_mounts(struct bundle *b, json_object *mounts)
{
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *dest = get_str(m, "destination"), *type = get_str(m, "type");
		json_object *opts = get(m, "options", json_type_array);
		if (!dest || dest[0] != '/')
			return log_err(0, "config.json: mounts[%zu]: needs an absolute destination",
				       i);
		bool bind = (type && !strcmp(type, "bind")) || has_option(opts, "bind") ||
			    has_option(opts, "rbind");
		int r;
		if (bind && (r = read_bind(b, m, dest, i)) < 0)
			return r;
		if (!bind && !(type && guest_made(type, dest)))
			return log_err(
			    0,
			    "config.json: mounts[%zu]: %s on %s: not supported (bind mounts, and "
			    "the guest's own proc, sysfs, devpts, tmpfs, mqueue and cgroup at "
			    "their "
			    "usual places)",
			    i, type ? type : "(no type)", dest);
	}
	return 0;
}

static int read_namespaces(struct bundle *b, json_object *list)
{
	b->netns = BUNDLE_NETNS_HOST;
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *ns = json_object_array_get_idx(list, i);
		const char *type = get_str(ns, "type"), *path = get_str(ns, "path");
		if (!type)
			return log_err(0, "config.json: linux.namespaces[%zu]: no type", i);
		if (!strcmp(type, "network")) {
			b->netns = path && *path ? BUNDLE_NETNS_PATH : BUNDLE_NETNS_NEW;
			b->netns_path = path;
		} else if (path && *path) { // create decides (bundle_check_namespaces)
			if (b->njoined == ARRAY_SIZE(b->joined))
				return log_err(0, "config.json: linux.namespaces: too many joined");
			b->joined[b->njoined++] = (struct bundle_ns){.type = type, .path = path};
		}
	}
	return 0;
}

int bundle_check_namespaces(const struct bundle *b, pid_t pod_vmm)
{
	for (unsigned i = 0; i < b->njoined; i++) {
		const struct bundle_ns *n = &b->joined[i];
		char own[64];
		snprintf(own, sizeof(own), "/proc/%d/ns/%s", (int)pod_vmm, n->type);
		if (pod_vmm > 0 && strlen(n->type) < 16 && file_same(own, n->path))
			continue;
		// pid, ipc, uts, mount, cgroup, user: the VM has its own; joining a host one
		// would mean nothing to the guest.
		return log_err(0,
			       "config.json: linux.namespaces: joining the %s namespace %s: not "
			       "possible in a VM (only a network namespace can be joined, and a "
			       "pod's VM's own)",
			       n->type, n->path);
	}
	return 0;
}

// linux.resources: the memory limit and CPU quota size the VM, as rkt's isolators do.
static int read_resources(struct bundle *b, json_object *res)
{
	struct vm_config *c = &b->vm;
	json_object *limit = get(get(res, "memory", json_type_object), "limit", json_type_int);
	if (limit && json_object_get_int64(limit) > 0)
		c->memory_mib = bundle_memory_mib((uint64_t)json_object_get_int64(limit));
	json_object *cpu = get(res, "cpu", json_type_object);
	json_object *quota = get(cpu, "quota", json_type_int),
		    *period = get(cpu, "period", json_type_int);
	if (quota && json_object_get_int64(quota) > 0) {
		int64_t p = period && json_object_get_int64(period) > 0
				? json_object_get_int64(period)
				: 100000;
		int64_t n = (json_object_get_int64(quota) + p - 1) / p;
		if (n > CONFIG_MAX_CPUS)
			return log_err(0, "config.json: linux.resources.cpu: %lld CPUs, at most %d",
				       (long long)n, CONFIG_MAX_CPUS);
		c->cpus = (unsigned)n;
	}
	return 0;
}

static int read_linux(struct bundle *b, json_object *lx)
{
	json_object *devices = get(lx, "devices", json_type_array);
	if (devices && json_object_array_length(devices))
		return refuse("linux.devices", "host devices cannot be passed into the VM");
	json_object *uids = get(lx, "uidMappings", json_type_array);
	if (uids && json_object_array_length(uids))
		return refuse("linux.uidMappings", "user namespace mappings are not supported yet");
	b->cgroups_path = get_str(lx, "cgroupsPath");
	int r = read_namespaces(b, get(lx, "namespaces", json_type_array));
	return r ?: read_resources(b, get(lx, "resources", json_type_object));
}

// Hooks run on the host (hooks.c); those that would run in the container's namespaces
// cannot: they are the guest's.
static int check_hooks(json_object *hooks)
{
	json_object_object_foreach(hooks, kind, list)
	{
		bool host = !strcmp(kind, "prestart") || !strcmp(kind, "createRuntime") ||
			    !strcmp(kind, "poststart") || !strcmp(kind, "poststop");
		if (!host && json_object_is_type(list, json_type_array) && json_object_array_length(list))
			return log_err(0, "config.json: hooks.%s: %s", kind,
				       strcmp(kind, "createContainer") && strcmp(kind, "startContainer")
					   ? "not a hook of runtime-spec 1.1"
					   : "would run in the container's namespaces, which are the VM's");
	}
	return 0;
}

// What an engine can ask of clearvm itself, through the container's annotations (podman run
// --annotation, a Kubernetes pod's annotations that containerd passes on):
//   io.clearvm.fs  9p | virtiofs   how the root is shared (clearvm's --fs)
// and the Kubernetes container type: a pod's sandbox ("pause") runs nothing (oci.c).
// Another io.clearvm.* key, or another value, is refused: a setting never silently ignored.
static bool is_sandbox(json_object *ann)
{
	json_object *v = NULL;
	const char *type = NULL;
	if (json_object_object_get_ex(ann, BUNDLE_ANNOTATION_CRI_TYPE, &v) ||
	    json_object_object_get_ex(ann, BUNDLE_ANNOTATION_CRIO_TYPE, &v))
		type = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	return type && !strcmp(type, "sandbox");
}

bool bundle_annotations_sandbox(const char *text)
{
	json_object *ann = text ? json_tokener_parse(text) : NULL;
	bool sandbox = ann && json_object_is_type(ann, json_type_object) && is_sandbox(ann);
	json_object_put(ann);
	return sandbox;
}

static int read_annotations(struct bundle *b, json_object *ann)
{
	if (!ann)
		return 0;
	b->sandbox = is_sandbox(ann);
	json_object_object_foreach(ann, key, v)
	{
		if (strncmp(key, BUNDLE_ANNOTATION_PREFIX, strlen(BUNDLE_ANNOTATION_PREFIX)) != 0)
			continue;
		const char *value = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		bool root = !strcmp(key, BUNDLE_ANNOTATION_FS);
		if (!root && strcmp(key, BUNDLE_ANNOTATION_VOLUME_FS) != 0)
			return log_err(0, "config.json: annotations: %s: not one of clearvm's (%s, %s)", key,
				       BUNDLE_ANNOTATION_FS, BUNDLE_ANNOTATION_VOLUME_FS);
		if (!value || config_parse_fs(value, root ? &b->vm.fs : &b->vm.volume_fs) < 0)
			return log_err(0, "config.json: annotations: %s: %s: expected \"9p\" or \"virtiofs\"",
				       key, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	return 0;
}

// Parses text as one JSON object into b->config (b emptied and given config_defaults first).
static json_object *parse_object(const char *text, size_t len, struct bundle *b)
{
	memset(b, 0, sizeof(*b));
	config_defaults(&b->vm);
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	bool complete = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	b->config = root;
	return root && complete && json_object_is_type(root, json_type_object) ? root : NULL;
}

int bundle_parse_process(const char *text, size_t len, struct bundle *b)
{
	json_object *p = parse_object(text, len, b);
	return p ? read_process(b, p) : log_err(0, "process: not a JSON object");
}

int bundle_parse(const char *text, size_t len, const char *dir, struct bundle *b)
{
	json_object *root = parse_object(text, len, b);
	b->dir = dir;
	if (!root)
		return log_err(0, "config.json: not a JSON object");
	const char *version = get_str(root, "ociVersion");
	if (!version || strncmp(version, "1.", 2))
		return log_err(0, "config.json: ociVersion %s: expected 1.x",
			       version ? version : "(none)");
	struct vm_config *c = &b->vm;
	json_object *rootobj = get(root, "root", json_type_object);
	const char *path = get_str(rootobj, "path");
	if (!path || !*path)
		return refuse("root.path", "missing");
	if (!(c->rootfs = path[0] == '/' ? path : owned_printf(&b->owned, "%s/%s", dir, path)))
		return -ENOMEM;
	c->read_only = get_bool(rootobj, "readonly");
	const char *hostname = get_str(root, "hostname");
	if (hostname && *hostname)
		c->hostname = hostname;
	b->hooks = get(root, "hooks", json_type_object);
	if (b->hooks && check_hooks(b->hooks) < 0)
		return -EINVAL;
	json_object *ann = get(root, "annotations", json_type_object);
	b->annotations = ann ? json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN) : "{}";
	if (read_annotations(b, ann) < 0)
		return -EINVAL;
	int r = read_process(b, get(root, "process", json_type_object));
	r = r ?: read_mounts(b, get(root, "mounts", json_type_array));
	r = r ?: read_linux(b, get(root, "linux", json_type_object));
	if (r == 0 && b->netns == BUNDLE_NETNS_NEW)
		c->network = NETWORK_NONE;
	return r;
}

int bundle_load(const char *dir, struct bundle *b)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		memset(b, 0, sizeof(*b));
		return log_err(errno, "%s", path);
	}
	char *text = malloc(CONFIG_JSON_MAX);
	ssize_t n = text ? read(fd, text, CONFIG_JSON_MAX) : -1;
	int err = errno;
	close(fd);
	int r;
	if (n < 0 || n == CONFIG_JSON_MAX) {
		memset(b, 0, sizeof(*b));
		r = n < 0 ? log_err(err, "%s", path)
			  : log_err(0, "%s: larger than %d bytes", path, CONFIG_JSON_MAX);
	} else {
		r = bundle_parse(text, (size_t)n, dir, b);
	}
	free(text);
	return r;
}

void bundle_free(struct bundle *b)
{
	config_free(&b->vm);
	owned_free(&b->owned);
	json_object_put(b->config);
	b->config = NULL;
}
