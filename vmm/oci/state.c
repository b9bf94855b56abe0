// SPDX-License-Identifier: Apache-2.0
// The container's directory under the state root, and its status read off the VMM process.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../files.h"
#include "../json.h"
#include "../util.h"
#include "pod_share.h"
#include "state.h"

int state_root(const char *root, char *out, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (root)
		snprintf(out, size, "%s", root);
	else if (getuid() == 0)
		snprintf(out, size, "/run/clearvm");
	else if (xdg && xdg[0] == '/')
		snprintf(out, size, "%s/clearvm", xdg);
	else
		return log_err(0, "no state directory: give --root DIR or set XDG_RUNTIME_DIR");
	return 0;
}

bool state_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > STATE_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

// Field 22 of a /proc/PID/stat file (0: none); its 3rd field (the state) in *state.
static uint64_t proc_stat_path(const char *path, char *state)
{
	char buf[1024];
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); // the command name may hold spaces and parentheses
	unsigned long long start = 0;
	if (!p ||
	    sscanf(
		p + 2,
		"%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		state, &start) != 2)
		return 0;
	return start;
}

static uint64_t proc_stat(pid_t pid, char *state)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return proc_stat_path(path, state);
}

uint64_t state_proc_starttime(pid_t pid)
{
	char st;
	return proc_stat(pid, &st);
}

int state_write(const struct oci_state *s)
{
	char path[4200], text[12000];
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	json_object *o = json_object_new_object(),
		    *ann = json_tokener_parse(s->annotations ? s->annotations : "{}");
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "starttime", json_object_new_uint64(s->starttime));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
	json_object_object_add(o, "created", json_object_new_string(s->created));
	json_object_object_add(o, "cgroup", json_object_new_string(s->cgroup));
	json_object_object_add(o, "ramMiB", json_object_new_uint64(s->ram_mib));
	if (s->netns[0])
		json_object_object_add(o, "podNetns", json_object_new_string(s->netns));
	if (s->pod[0]) {
		json_object_object_add(o, "podVM", json_object_new_string(s->pod));
		json_object_object_add(o, "podVolumes", json_object_new_int((int)s->pod_volumes));
	}
	json_object_object_add(o, "annotations", ann ? ann : json_object_new_object());
	snprintf(text, sizeof(text), "%s\n",
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return file_write(path, text);
}

int state_read(const char *root, const char *id, struct oci_state *s)
{
	memset(s, 0, sizeof(*s));
	if (!state_id_valid(id))
		return log_err(0, "%s: not a container id", id);
	snprintf(s->dir, sizeof(s->dir), "%s/%s", root, id);
	snprintf(s->id, sizeof(s->id), "%s", id);
	char path[4200];
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	if (access(path, F_OK) < 0) {
		if (errno != ENOENT)
			return log_err(errno, "%s", path);
		log_err(0, "container %s does not exist", id);
		return -ENOENT;
	}
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = file_read(path, 1 << 20, &text, &len);
	if (r < 0)
		return r;
	json_object *o = json_tokener_parse(text);
	json_object *pid = get(o, "pid", json_type_int),
		    *start = get(o, "starttime", json_type_int);
	const char *bundle = get_str(o, "bundle"), *created = get_str(o, "created"),
		   *cg = get_str(o, "cgroup");
	json_object *ann = get(o, "annotations", json_type_object);
	if (!pid || !start || !bundle || !created) {
		json_object_put(o);
		return log_err(0, "%s: not clearvm's state", path);
	}
	s->pid = (pid_t)json_object_get_int(pid);
	s->starttime = json_object_get_uint64(start);
	snprintf(s->bundle, sizeof(s->bundle), "%s", bundle);
	snprintf(s->created, sizeof(s->created), "%s", created);
	snprintf(s->cgroup, sizeof(s->cgroup), "%s", cg ? cg : "");
	json_object *ram = get(o, "ramMiB", json_type_int);
	s->ram_mib = ram ? json_object_get_uint64(ram) : 0;
	const char *netns = get_str(o, "podNetns"), *pod = get_str(o, "podVM");
	json_object *pod_volumes = get(o, "podVolumes", json_type_int);
	snprintf(s->netns, sizeof(s->netns), "%s", netns ? netns : "");
	if (pod && state_id_valid(pod))
		snprintf(s->pod, sizeof(s->pod), "%s", pod);
	s->pod_volumes = pod_volumes ? (unsigned)json_object_get_int(pod_volumes) : 0;
	s->annotations =
	    strdup(ann ? json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN) : "{}");
	json_object_put(o);
	return s->annotations ? 0 : -ENOMEM;
}

void state_free(struct oci_state *s)
{
	free(s->annotations);
	s->annotations = NULL;
}

enum oci_status state_status(const struct oci_state *s)
{
	char st = 0;
	if (s->pid <= 0 || proc_stat(s->pid, &st) != s->starttime || st == 'Z' || st == 'X')
		return OCI_STOPPED;
	char fifo[4200];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", s->dir);
	if (access(fifo, F_OK) == 0)
		return OCI_CREATED;
	return st == 'T' ? OCI_PAUSED : OCI_RUNNING;
}

const char *state_status_name(enum oci_status st)
{
	static const char *const names[] = {[OCI_CREATED] = "created", [OCI_RUNNING] = "running",
					    [OCI_PAUSED] = "paused", [OCI_STOPPED] = "stopped"};
	return names[st];
}

bool state_threads_are(pid_t pid, bool stopped)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool all = true;
	struct dirent *e;
	while (all && (e = readdir(d))) {
		char st = 0;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, e->d_name);
		// A thread gone meanwhile is neither: the process is ending.
		all = proc_stat_path(path, &st) && (st == 'T') == stopped;
	}
	closedir(d);
	return all;
}

void state_format(const struct oci_state *s, char *buf, size_t size)
{
	enum oci_status st = state_status(s);
	json_object *o = json_object_new_object(),
		    *ann = json_tokener_parse(s->annotations ? s->annotations : "{}");
	json_object_object_add(o, "ociVersion", json_object_new_string("1.1.0"));
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "status", json_object_new_string(state_status_name(st)));
	json_object_object_add(o, "pid", json_object_new_int(st == OCI_STOPPED ? 0 : s->pid));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
	json_object_object_add(o, "created", json_object_new_string(s->created));
	json_object_object_add(o, "annotations", ann ? ann : json_object_new_object());
	snprintf(buf, size, "%s\n",
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int state_remove(const struct oci_state *s)
{
	if (s->cgroup[0] && rmdir(s->cgroup) < 0 && errno != ENOENT)
		log_err(errno, "removing cgroup %s", s->cgroup); // and the state still goes
	// What is bound in a pod's share goes first: the tree removed below holds none of it.
	pod_share_remove(s->dir);
	if (s->pod[0]) {
		char owner[sizeof(s->dir) + sizeof(s->pod) + 2];
		snprintf(owner, sizeof(owner), "%s", s->dir);
		char *slash = strrchr(owner, '/');
		if (slash) {
			snprintf(slash + 1, sizeof(owner) - (size_t)(slash + 1 - owner), "%s", s->pod);
			pod_unbind(owner, s->id, s->pod_volumes);
		}
	}
	return file_remove_tree(s->dir);
}
