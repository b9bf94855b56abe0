// SPDX-License-Identifier: Apache-2.0
// The pod manifest, read with json-c: every field checked for its type before use, every
// error one line naming the field.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../firmware/layout.h"
#include "../net/net.h"
#include "../plan.h"
#include "../caps.h"
#include "../json.h"
#include "../owned.h"
#include "../util.h"
#include "pod.h"

// appc names (AC Name): lowercase letters, digits and '-', not starting or ending with '-'.
static bool ac_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

int pod_parse_bytes(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {{"", 1},          {"k", 1000},         {"K", 1000},         {"M", 1000000},
		     {"G", 1000000000}, {"T", 1000000000000}, {"Ki", 1ULL << 10}, {"Mi", 1ULL << 20},
		     {"Gi", 1ULL << 30}, {"Ti", 1ULL << 40}};
	char *end;
	errno = 0;
	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -EINVAL;
		*bytes = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

int pod_parse_millicores(const char *s, uint64_t *millicores)
{
	char *end;
	errno = 0;
	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	unsigned long long whole = strtoull(s, &end, 10), frac = 0, scale = 1000;
	if (errno || whole > 1000000)
		return -EINVAL;
	if (!strcmp(end, "m")) {
		*millicores = whole;
		return 0;
	}
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++) {
			scale /= 10;
			frac += (unsigned long long)(*end - '0') * scale;
		}
	}
	if (*end)
		return -EINVAL;
	*millicores = whole * 1000 + frac;
	return 0;
}

struct limits {
	uint64_t memory_bytes; // 0: none given
	uint64_t millicores;
	uint64_t caps; // the app's capability bounding set
};


uint64_t pod_default_caps(void)
{
	static const int keep[] = {0 /* CHOWN */, 1 /* DAC_OVERRIDE */, 3 /* FOWNER */, 4 /* FSETID */,
				   5 /* KILL */, 6 /* SETGID */, 7 /* SETUID */, 8 /* SETPCAP */,
				   10 /* NET_BIND_SERVICE */, 13 /* NET_RAW */, 18 /* SYS_CHROOT */,
				   27 /* MKNOD */, 29 /* AUDIT_WRITE */, 31 /* SETFCAP */};
	uint64_t caps = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		caps |= 1ULL << keep[i];
	return caps;
}

// An os/linux/capabilities-*-set isolator's "set", as a mask; -EINVAL for an unknown name.
static int cap_set(json_object *value, const char *who, uint64_t *mask)
{
	json_object *set = get(value, "set", json_type_array);
	size_t n = set ? json_object_array_length(set) : 0;
	*mask = 0;
	if (!set)
		return log_err(0, "pod manifest: %s: a capabilities isolator needs a set", who);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(set, i);
		const char *name = json_object_is_type(c, json_type_string) ? json_object_get_string(c) : "";
		int k = cap_number(name);
		if (k < 0)
			return log_err(0, "pod manifest: %s: unknown capability %s", who, name);
		*mask |= 1ULL << k;
	}
	return 0;
}

// An isolators array: the last of each kind wins; anything clearvm cannot honour is refused.
static int read_isolators(json_object *list, const char *who, struct limits *out)
{
	size_t n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *iso = json_object_array_get_idx(list, i);
		const char *name = get_str(iso, "name");
		json_object *value = get(iso, "value", json_type_object);
		const char *q = get_str(value, "limit") ? get_str(value, "limit") : get_str(value, "request");
		if (!name)
			return log_err(0, "pod manifest: %s: an isolator without a name", who);
		if (!strcmp(name, "resource/memory")) {
			if (pod_parse_bytes(q, &out->memory_bytes) < 0)
				return log_err(0, "pod manifest: %s: resource/memory limit %s: expected a quantity like 128M or 1Gi",
					       who, q ? q : "(none)");
		} else if (!strcmp(name, "resource/cpu")) {
			if (pod_parse_millicores(q, &out->millicores) < 0)
				return log_err(0, "pod manifest: %s: resource/cpu limit %s: expected cores like 2 or 500m",
					       who, q ? q : "(none)");
		} else if (!strcmp(name, "os/linux/capabilities-retain-set")) {
			if (cap_set(value, who, &out->caps) < 0)
				return -EINVAL;
		} else if (!strcmp(name, "os/linux/capabilities-remove-set")) {
			uint64_t remove;
			if (cap_set(value, who, &remove) < 0)
				return -EINVAL;
			out->caps = pod_default_caps() & ~remove;
		} else {
			return log_err(0, "pod manifest: %s: isolator %s is not supported by the clearvm stage1 "
					  "(only resource/memory, resource/cpu and os/linux/capabilities-*-set)",
				       who, name);
		}
	}
	return 0;
}

static json_object *find_named(json_object *list, const char *key, const char *name)
{
	size_t n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		if (get_str(o, key) && !strcmp(get_str(o, key), name))
			return o;
	}
	return NULL;
}

// An "empty" volume: a directory of its own in the pod directory, with the mode and owner the
// volume asks for (rkt's defaults: 0755, root).
static int empty_volume(struct pod *pod, const char *pod_dir, const char *name, const char *mode,
			uid_t uid, gid_t gid, const char **host)
{
	if (!ac_name(name))
		return log_err(0, "pod manifest: volume %s: not a valid name", name);
	const char *dir = owned_printf(&pod->owned, "%s/clearvm/volumes/%s", pod_dir, name);
	const char *parent = owned_printf(&pod->owned, "%s/clearvm", pod_dir), *vols = owned_printf(&pod->owned, "%s/clearvm/volumes", pod_dir);
	if (!dir || !parent || !vols)
		return -ENOMEM;
	unsigned long m = mode ? strtoul(mode, NULL, 8) & 07777 : 0755;
	if ((mkdir(parent, 0700) < 0 && errno != EEXIST) || (mkdir(vols, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST) || chmod(dir, (mode_t)m) < 0 || chown(dir, uid, gid) < 0)
		return log_err(errno, "empty volume %s", dir);
	*host = dir;
	return 0;
}

// The pod volume v as a share: a host directory or file, or an "empty" one made in the pod
// directory. readOnly, when the volume says, overrides the mount point's.
static int volume_source(struct pod *pod, json_object *v, const char *pod_dir, struct vm_volume *out)
{
	const char *name = get_str(v, "name"), *kind = get_str(v, "kind");
	json_object *ro = get(v, "readOnly", json_type_boolean), *rec = get(v, "recursive", json_type_boolean);
	if (ro)
		out->readonly = json_object_get_boolean(ro);
	out->nonrecursive = rec && !json_object_get_boolean(rec);
	if (kind && !strcmp(kind, "host")) {
		out->host = get_str(v, "source");
		struct stat st;
		if (!out->host || out->host[0] != '/')
			return log_err(0, "pod manifest: volume %s: a host volume needs an absolute source", name);
		if (stat(out->host, &st) < 0)
			return log_err(errno, "volume %s: %s", name, out->host);
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			return log_err(0, "volume %s: %s is neither a directory nor a regular file", name, out->host);
		out->file = S_ISREG(st.st_mode);
		return 0;
	}
	if (!kind || strcmp(kind, "empty"))
		return log_err(0, "pod manifest: volume %s: kind %s is not supported (host or empty)", name,
			       kind ? kind : "(none)");
	json_object *uid = get(v, "uid", json_type_int), *gid = get(v, "gid", json_type_int);
	return empty_volume(pod, pod_dir, name, get_str(v, "mode"), uid ? (uid_t)json_object_get_int(uid) : 0,
			    gid ? (gid_t)json_object_get_int(gid) : 0, &out->host);
}

static struct vm_volume *new_mount(struct vm_config *a, const char *path)
{
	if (a->nvolumes == CONFIG_MAX_VOLUMES) {
		log_err(0, "app %s: more than %d mounts", a->app_name, CONFIG_MAX_VOLUMES);
		return NULL;
	}
	struct vm_volume *v = &a->volumes[a->nvolumes++];
	v->guest = path;
	return v;
}

static bool mounted_at(const struct vm_config *a, const char *path)
{
	for (unsigned i = 0; i < a->nvolumes; i++)
		if (!strcmp(a->volumes[i].guest, path))
			return true;
	return false;
}

// The app's mounts, as rkt's stage1 makes them: those the pod manifest lists, then each of the
// image's mountPoints not already mounted at its path, from the volume of the same name, or
// else from an implicit empty volume named APP-MOUNTPOINT.
static int read_mounts(struct pod *pod, json_object *entry, json_object *app, json_object *volumes,
		       const char *pod_dir, struct vm_config *a)
{
	json_object *mounts = get(entry, "mounts", json_type_array), *mps = get(app, "mountPoints", json_type_array);
	int r;
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *vol = get_str(m, "volume"), *path = get_str(m, "path");
		if (!vol || !path || path[0] != '/')
			return log_err(0, "pod manifest: app %s: mounts[%zu] needs a volume and an absolute path",
				       a->app_name, i);
		json_object *v = find_named(volumes, "name", vol);
		if (!v)
			return log_err(0, "pod manifest: no volume named %s", vol);
		struct vm_volume *mv = new_mount(a, path);
		if (!mv)
			return -E2BIG;
		mv->readonly = get_bool(find_named(mps, "name", vol), "readOnly");
		if ((r = volume_source(pod, v, pod_dir, mv)) < 0)
			return r;
	}
	for (size_t i = 0; mps && i < json_object_array_length(mps); i++) {
		json_object *mp = json_object_array_get_idx(mps, i);
		const char *name = get_str(mp, "name"), *path = get_str(mp, "path");
		if (!name || !path || path[0] != '/')
			return log_err(0, "image of app %s: mountPoints[%zu] needs a name and an absolute path",
				       a->app_name, i);
		if (mounted_at(a, path))
			continue;
		struct vm_volume *mv = new_mount(a, path);
		if (!mv)
			return -E2BIG;
		mv->readonly = get_bool(mp, "readOnly");
		json_object *v = find_named(volumes, "name", name);
		if (v) {
			r = volume_source(pod, v, pod_dir, mv);
		} else {
			const char *implicit = owned_printf(&pod->owned, "%s-%s", a->app_name, name);
			r = implicit ? empty_volume(pod, pod_dir, implicit, NULL, 0, 0, &mv->host) : -ENOMEM;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

// A string array as a NULL-terminated argv owned by the pod (its strings point into the JSON).
static char **read_argv(struct pod *pod, json_object *list, const char *app, const char *what)
{
	size_t argc = list ? json_object_array_length(list) : 0;
	if (argc == 0) {
		log_err(0, "pod manifest: app %s: %s is missing or empty", app, what);
		return NULL;
	}
	size_t bad;
	char **argv = owned_argv(&pod->owned, list, &bad);
	if (!argv && bad == SIZE_MAX)
		log_err(ENOMEM, "pod manifest");
	else if (!argv)
		log_err(0, "pod manifest: app %s: %s[%zu] is not a string", app, what, bad);
	return argv;
}

// eventHandlers: pre-start runs before the app (as rkt does, as root in the app's root);
// post-stop is refused rather than silently skipped.
static int read_event_handlers(struct pod *pod, json_object *app, struct vm_config *a)
{
	json_object *handlers = get(app, "eventHandlers", json_type_array);
	for (size_t i = 0; handlers && i < json_object_array_length(handlers); i++) {
		json_object *h = json_object_array_get_idx(handlers, i);
		const char *name = get_str(h, "name");
		if (!name || strcmp(name, "pre-start"))
			return log_err(0, "pod manifest: app %s: event handler %s is not supported by the clearvm "
					  "stage1 (only pre-start)", a->app_name, name ? name : "(none)");
		if (!(a->pre_start = read_argv(pod, get(h, "exec", json_type_array), a->app_name, "pre-start exec")))
			return -EINVAL;
	}
	return 0;
}

static int read_app(struct pod *pod, json_object *entry, json_object *volumes, const char *pod_dir,
		    struct vm_config *a, struct limits *lim)
{
	const char *name = get_str(entry, "name");
	json_object *app = get(entry, "app", json_type_object);
	if (!ac_name(name))
		return log_err(0, "pod manifest: app name %s: expected lowercase letters, digits and '-'",
			       name ? name : "(none)");
	if (!app)
		return log_err(0, "pod manifest: app %s: no app section", name);
	a->app_name = name;
	a->rootfs = owned_printf(&pod->owned, "%s/stage1/rootfs/opt/stage2/%s/rootfs", pod_dir, name);
	if (!a->rootfs)
		return -ENOMEM;
	struct stat st;
	if (stat(a->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return log_err(0, "app %s: its root filesystem %s is missing", name, a->rootfs);

	if (!(a->argv = read_argv(pod, get(app, "exec", json_type_array), name, "exec")))
		return -EINVAL;

	a->read_only = get_bool(entry, "readOnlyRootFS"); // rkt run --readonly-rootfs
	a->workdir = get_str(app, "workingDirectory") ? get_str(app, "workingDirectory") : "/";
	if (a->workdir[0] != '/')
		return log_err(0, "pod manifest: app %s: workingDirectory %s is not absolute", name, a->workdir);
	int r;
	json_object *env = get(app, "environment", json_type_array);
	for (size_t i = 0; env && i < json_object_array_length(env); i++) {
		json_object *kv = json_object_array_get_idx(env, i);
		const char *k = get_str(kv, "name"), *v = get_str(kv, "value");
		const char *line = k && v ? owned_printf(&pod->owned, "%s=%s", k, v) : NULL;
		if (!line)
			return log_err(0, "pod manifest: app %s: environment[%zu] needs a name and a value", name, i);
		if ((r = config_set_env(a, line)) < 0)
			return r;
	}
	const char *user = get_str(app, "user") ? get_str(app, "user") : "0";
	const char *group = get_str(app, "group") ? get_str(app, "group") : "0";
	if (user[0] == '/' || group[0] == '/')
		return log_err(0, "app %s: user or group given as a file path is not supported", name);
	a->user = owned_printf(&pod->owned, "%s:%s", user, group);
	const char *ac = owned_printf(&pod->owned, "AC_APP_NAME=%s", name); // the appc executor sets it
	if (!a->user || !ac)
		return -ENOMEM;
	if ((r = config_set_env(a, ac)) < 0 || (r = config_resolve_workload(a)) < 0)
		return r;

	// supplementaryGIDs: added to the groups the user has in the image's /etc/group.
	json_object *sgids = get(app, "supplementaryGIDs", json_type_array);
	for (size_t i = 0; sgids && i < json_object_array_length(sgids); i++) {
		json_object *g = json_object_array_get_idx(sgids, i);
		int64_t gid = json_object_is_type(g, json_type_int) ? json_object_get_int64(g) : -1;
		if (gid < 0 || gid > UINT32_MAX - 1)
			return log_err(0, "pod manifest: app %s: supplementaryGIDs[%zu] is not a group id", name, i);
		if (a->ngroups == CONFIG_MAX_GROUPS)
			return log_err(0, "app %s: more than %d groups", name, CONFIG_MAX_GROUPS);
		a->groups[a->ngroups++] = (uint32_t)gid;
	}
	if ((r = read_mounts(pod, entry, app, volumes, pod_dir, a)) < 0)
		return r;
	if ((r = read_event_handlers(pod, app, a)) < 0)
		return r;
	char who[80];
	snprintf(who, sizeof(who), "app %s", name);
	return read_isolators(get(app, "isolators", json_type_array), who, lim);
}

// An app's port named `name` (its image's app.ports, copied into the pod manifest): the
// guest's port and whether it is UDP. 0, or -ENOENT when no app has it.
static int app_port(json_object *apps, const char *name, uint16_t *port, bool *udp)
{
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		json_object *app = get(json_object_array_get_idx(apps, i), "app", json_type_object);
		json_object *ports = app ? get(app, "ports", json_type_array) : NULL;
		for (size_t j = 0; ports && j < json_object_array_length(ports); j++) {
			json_object *p = json_object_array_get_idx(ports, j), *num;
			const char *pname = get_str(p, "name"), *proto = get_str(p, "protocol");
			if (!pname || strcmp(pname, name))
				continue;
			num = get(p, "port", json_type_int);
			int64_t v = num ? json_object_get_int64(num) : 0;
			if (v < 1 || v > 65535 || !proto || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
				return log_err(0, "pod manifest: port %s: expected a port from 1 to 65535 "
						  "and protocol tcp or udp", name);
			*port = (uint16_t)v;
			*udp = !strcmp(proto, "udp");
			return 0;
		}
	}
	log_err(0, "pod manifest: port %s: no app declares it", name);
	return -ENOENT;
}

// rkt run --port NAME:HOSTPORT: the pod manifest's ports (name, hostPort, optional hostIP),
// each the host's port forwarded to the app's port of that name, as -p forwards.
static int read_ports(json_object *ports, json_object *apps, struct vm_config *vm)
{
	size_t n = ports ? json_object_array_length(ports) : 0;
	if (n > CONFIG_MAX_PUBLISH)
		return log_err(0, "pod manifest: %zu port forwards, at most %d", n, CONFIG_MAX_PUBLISH);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(ports, i);
		json_object *hp = get(p, "hostPort", json_type_int);
		const char *name = get_str(p, "name"), *ip = get_str(p, "hostIP");
		int64_t host = hp ? json_object_get_int64(hp) : 0;
		if (!name || host < 1 || host > 65535)
			return log_err(0, "pod manifest: ports[%zu]: expected a name and a hostPort "
					  "from 1 to 65535", i);
		struct vm_publish *pub = &vm->publish[vm->npublish];
		char spec[64];
		uint16_t guest = 0;
		bool udp = false;
		int r = app_port(apps, name, &guest, &udp);
		if (r < 0)
			return r;
		// The same parser as -p: the host's address checked as there.
		snprintf(spec, sizeof(spec), "%s%s%" PRId64 ":%u/%s", ip && *ip ? ip : "",
			 ip && *ip ? ":" : "", host, guest, udp ? "udp" : "tcp");
		if ((r = net_parse_publish(spec, pub)) < 0)
			return r;
		vm->npublish++;
	}
	return 0;
}

int pod_load(const char *text, size_t len, const char *pod_dir, struct pod *pod)
{
	memset(pod, 0, sizeof(*pod));
	struct vm_config *vm = &pod->vm;
	vm->cpus = 1;
	vm->workdir = "/";
	vm->stop_timeout_s = CONFIG_DEFAULT_STOP_TIMEOUT;
	vm->apps = pod->apps;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_object *root = len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	bool complete = root && json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	pod->manifest = root;
	if (!complete || !json_object_is_type(root, json_type_object))
		return log_err(0, "pod manifest: not valid JSON");
	const char *kind = get_str(root, "acKind");
	if (!kind || strcmp(kind, "PodManifest"))
		return log_err(0, "pod manifest: acKind is %s, expected PodManifest", kind ? kind : "missing");
	json_object *apps = get(root, "apps", json_type_array), *volumes = get(root, "volumes", json_type_array);
	size_t n = apps ? json_object_array_length(apps) : 0;
	if (n == 0)
		return log_err(0, "pod manifest: no apps");
	if (n > CONFIG_MAX_APPS)
		return log_err(0, "pod manifest: %zu apps, the clearvm stage1 runs at most %d", n, CONFIG_MAX_APPS);

	uint64_t memory = 0, millicores = 0;
	unsigned shares = 0;
	int r;
	for (size_t i = 0; i < n; i++) {
		struct limits lim = {.caps = pod_default_caps()};
		struct vm_config *a = &pod->apps[i];
		if ((r = read_app(pod, json_object_array_get_idx(apps, i), volumes, pod_dir, a, &lim)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(pod->apps[j].app_name, a->app_name))
				return log_err(0, "pod manifest: two apps named %s", a->app_name);
		pod->vm.napps++;
		a->bound_caps = true;
		a->caps = lim.caps;
		memory += lim.memory_bytes;
		millicores += lim.millicores;
		shares += 1 + a->nvolumes;
	}
	if ((r = read_ports(get(root, "ports", json_type_array), apps, vm)) < 0)
		return r;
	struct limits pod_lim = {0};
	if ((r = read_isolators(get(root, "isolators", json_type_array), "pod", &pod_lim)) < 0)
		return r;
	memory = pod_lim.memory_bytes ? pod_lim.memory_bytes : memory;
	millicores = pod_lim.millicores ? pod_lim.millicores : millicores;
	// 3 virtio slots go to the console, the balloon and the network card; each root and
	// volume takes one.
	if (shares > PLAN_MAX_SHARES)
		return log_err(0, "pod: %u app roots and volumes, the clearvm stage1 shares at most %u",
			       shares, PLAN_MAX_SHARES);
	vm->memory_mib = memory ? POD_MEMORY_OVERHEAD_MIB + ALIGN_UP(memory, 1ULL << 20) / (1ULL << 20)
				: CONFIG_DEFAULT_MEMORY_MIB;
	vm->memory_mib = MAX(vm->memory_mib, (uint64_t)CONFIG_MIN_MEMORY_MIB);
	if (vm->memory_mib > LAYOUT_MAX_RAM_MIB)
		return log_err(0, "pod: resource/memory asks for %" PRIu64 " MiB with the overhead, at most %llu",
			       vm->memory_mib, (unsigned long long)LAYOUT_MAX_RAM_MIB);
	vm->cpus = (unsigned)MIN((millicores + 999) / 1000, (uint64_t)CONFIG_MAX_CPUS);
	vm->cpus = MAX(vm->cpus, 1U);
	return 0;
}

void pod_free(struct pod *pod)
{
	for (unsigned i = 0; i < CONFIG_MAX_APPS; i++) // an app that failed half-read included
		config_free(&pod->apps[i]);
	owned_free(&pod->owned);
	if (pod->manifest)
		json_object_put(pod->manifest);
	pod->manifest = NULL;
}
