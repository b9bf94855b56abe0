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
#include "../util.h"
#include "pod.h"

static const char *own(struct pod *pod, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *own(struct pod *pod, const char *fmt, ...)
{
	if (pod->nowned == POD_MAX_OWNED)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	pod->owned[pod->nowned++] = s;
	return s;
}

// Typed lookups: NULL when the key is absent or of another type.
static json_object *get(json_object *o, const char *key, json_type type)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key, json_type_string);
	return v ? json_object_get_string(v) : NULL;
}

static bool get_bool(json_object *o, const char *key)
{
	json_object *v = get(o, key, json_type_boolean);
	return v && json_object_get_boolean(v);
}

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
};

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
		} else {
			return log_err(0, "pod manifest: %s: isolator %s is not supported by the clearvm stage1 "
					  "(only resource/memory and resource/cpu)", who, name);
		}
	}
	return 0;
}

// The pod volume named `name`: its host directory (an "empty" one is made in the pod directory).
static int volume_source(struct pod *pod, json_object *volumes, const char *name, const char *pod_dir,
			 const char **host, bool *readonly)
{
	size_t n = volumes ? json_object_array_length(volumes) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(volumes, i);
		if (!get_str(v, "name") || strcmp(get_str(v, "name"), name))
			continue;
		const char *kind = get_str(v, "kind");
		*readonly = get_bool(v, "readOnly");
		if (kind && !strcmp(kind, "host")) {
			*host = get_str(v, "source");
			if (!*host || (*host)[0] != '/')
				return log_err(0, "pod manifest: volume %s: a host volume needs an absolute source", name);
			return 0;
		}
		if (!kind || strcmp(kind, "empty"))
			return log_err(0, "pod manifest: volume %s: kind %s is not supported (host or empty)", name,
				       kind ? kind : "(none)");
		if (!ac_name(name))
			return log_err(0, "pod manifest: volume %s: not a valid name", name);
		const char *dir = own(pod, "%s/clearvm/volumes/%s", pod_dir, name);
		const char *parent = own(pod, "%s/clearvm", pod_dir), *vols = own(pod, "%s/clearvm/volumes", pod_dir);
		if (!dir || !parent || !vols)
			return -ENOMEM;
		const char *mode = get_str(v, "mode");
		unsigned long m = mode ? strtoul(mode, NULL, 8) & 07777 : 0755;
		json_object *uid = get(v, "uid", json_type_int), *gid = get(v, "gid", json_type_int);
		if ((mkdir(parent, 0700) < 0 && errno != EEXIST) || (mkdir(vols, 0700) < 0 && errno != EEXIST) ||
		    (mkdir(dir, 0700) < 0 && errno != EEXIST) || chmod(dir, (mode_t)m) < 0 ||
		    chown(dir, uid ? (uid_t)json_object_get_int(uid) : 0, gid ? (gid_t)json_object_get_int(gid) : 0) < 0)
			return log_err(errno, "empty volume %s", dir);
		*host = dir;
		return 0;
	}
	return log_err(0, "pod manifest: no volume named %s", name);
}

// A mount point's readOnly flag in the app's image manifest section.
static bool mount_point_readonly(json_object *app, const char *name)
{
	json_object *mps = get(app, "mountPoints", json_type_array);
	size_t n = mps ? json_object_array_length(mps) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *mp = json_object_array_get_idx(mps, i);
		if (get_str(mp, "name") && !strcmp(get_str(mp, "name"), name))
			return get_bool(mp, "readOnly");
	}
	return false;
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
	a->rootfs = own(pod, "%s/stage1/rootfs/opt/stage2/%s/rootfs", pod_dir, name);
	if (!a->rootfs)
		return -ENOMEM;
	struct stat st;
	if (stat(a->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return log_err(0, "app %s: its root filesystem %s is missing", name, a->rootfs);

	json_object *exec = get(app, "exec", json_type_array);
	size_t argc = exec ? json_object_array_length(exec) : 0;
	if (argc == 0)
		return log_err(0, "pod manifest: app %s: exec is missing or empty", name);
	char **argv = calloc(argc + 1, sizeof(*argv));
	if (!argv || pod->nowned == POD_MAX_OWNED) {
		free(argv);
		return -ENOMEM;
	}
	pod->owned[pod->nowned++] = (char *)argv;
	for (size_t i = 0; i < argc; i++) {
		json_object *s = json_object_array_get_idx(exec, i);
		if (!json_object_is_type(s, json_type_string))
			return log_err(0, "pod manifest: app %s: exec[%zu] is not a string", name, i);
		argv[i] = (char *)json_object_get_string(s);
	}
	a->argv = argv;

	a->read_only = get_bool(entry, "readOnlyRootFS"); // rkt run --readonly-rootfs
	a->workdir = get_str(app, "workingDirectory") ? get_str(app, "workingDirectory") : "/";
	if (a->workdir[0] != '/')
		return log_err(0, "pod manifest: app %s: workingDirectory %s is not absolute", name, a->workdir);
	int r;
	json_object *env = get(app, "environment", json_type_array);
	for (size_t i = 0; env && i < json_object_array_length(env); i++) {
		json_object *kv = json_object_array_get_idx(env, i);
		const char *k = get_str(kv, "name"), *v = get_str(kv, "value");
		const char *line = k && v ? own(pod, "%s=%s", k, v) : NULL;
		if (!line)
			return log_err(0, "pod manifest: app %s: environment[%zu] needs a name and a value", name, i);
		if ((r = config_set_env(a, line)) < 0)
			return r;
	}
	const char *ac = own(pod, "AC_APP_NAME=%s", name); // the appc executor sets it
	if (!ac || (r = config_set_env(a, ac)) < 0 ||
	    (!config_has_env(a, "PATH") && (r = config_set_env(a, "PATH=" CONFIG_DEFAULT_PATH)) < 0))
		return r < 0 ? r : -ENOMEM;

	const char *user = get_str(app, "user") ? get_str(app, "user") : "0";
	const char *group = get_str(app, "group") ? get_str(app, "group") : "0";
	if (user[0] == '/' || group[0] == '/')
		return log_err(0, "app %s: user or group given as a file path is not supported", name);
	a->user = own(pod, "%s:%s", user, group);
	if (!a->user || (r = user_resolve(a)) < 0)
		return a->user ? r : -ENOMEM;

	json_object *mounts = get(entry, "mounts", json_type_array);
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *vol = get_str(m, "volume"), *path = get_str(m, "path");
		if (!vol || !path || path[0] != '/')
			return log_err(0, "pod manifest: app %s: mounts[%zu] needs a volume and an absolute path", name, i);
		if (a->nvolumes == CONFIG_MAX_VOLUMES)
			return log_err(0, "app %s: more than %d mounts", name, CONFIG_MAX_VOLUMES);
		struct vm_volume *v = &a->volumes[a->nvolumes++];
		if ((r = volume_source(pod, volumes, vol, pod_dir, &v->host, &v->readonly)) < 0)
			return r;
		v->guest = path;
		v->readonly = v->readonly || mount_point_readonly(app, vol);
	}
	char who[80];
	snprintf(who, sizeof(who), "app %s", name);
	return read_isolators(get(app, "isolators", json_type_array), who, lim);
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
		struct limits lim = {0};
		struct vm_config *a = &pod->apps[i];
		if ((r = read_app(pod, json_object_array_get_idx(apps, i), volumes, pod_dir, a, &lim)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(pod->apps[j].app_name, a->app_name))
				return log_err(0, "pod manifest: two apps named %s", a->app_name);
		pod->vm.napps++;
		memory += lim.memory_bytes;
		millicores += lim.millicores;
		shares += 1 + a->nvolumes;
	}
	struct limits pod_lim = {0};
	if ((r = read_isolators(get(root, "isolators", json_type_array), "pod", &pod_lim)) < 0)
		return r;
	memory = pod_lim.memory_bytes ? pod_lim.memory_bytes : memory;
	millicores = pod_lim.millicores ? pod_lim.millicores : millicores;
	// 2 virtio slots go to the console and the balloon; each root and volume takes one.
	if (shares > LAYOUT_VIRTIO_SLOTS - 2)
		return log_err(0, "pod: %u app roots and volumes, the clearvm stage1 shares at most %u",
			       shares, LAYOUT_VIRTIO_SLOTS - 2);
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
	for (unsigned i = 0; i < pod->nowned; i++)
		free(pod->owned[i]);
	pod->nowned = 0;
	if (pod->manifest)
		json_object_put(pod->manifest);
	pod->manifest = NULL;
}
