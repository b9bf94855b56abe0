// SPDX-License-Identifier: Apache-2.0
// The pod share on the host (pod_share.h): made by the pod's first container, filled with bind
// mounts by the later ones, taken down at delete. A bind is made detached (open_tree), given
// its flags, and only then moved into the share, so that the copy the share's propagation
// carries into the file server's jail has them too (a remount after the move would not reach it).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guest-init/abi.h"
#include "../files.h"
#include "../util.h"
#include "pod_share.h"

int pod_share_add(struct oci_state *s, const char *netns_path, struct vm_config *cfg)
{
	static char path[sizeof(s->dir) + 8];
	snprintf(path, sizeof(path), "%s/pod", s->dir);
	if (cfg->nvolumes == CONFIG_MAX_VOLUMES) { // no slot left: it stays the pod's one container
		log_debug("a pod's first container with %d volumes: no pod share", CONFIG_MAX_VOLUMES);
		return 0;
	}
	if (mkdir(path, 0700) < 0 || mount(path, path, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, path, NULL, MS_SHARED, NULL) < 0)
		return log_err(errno, "the pod share %s", path);
	cfg->volumes[cfg->nvolumes++] = (struct vm_volume){.host = path, .guest = ABI_POD_DIR, .pod = true};
	snprintf(s->netns, sizeof(s->netns), "%s", netns_path);
	return 0;
}

int pod_find(const char *root_dir, const char *netns_path, char *owner, size_t size, pid_t *pid)
{
	DIR *d = opendir(root_dir);
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d))) {
		char path[PATH_MAX];
		struct oci_state s;
		if (!state_id_valid(e->d_name) ||
		    snprintf(path, sizeof(path), "%s/%s/state.json", root_dir, e->d_name) >= (int)sizeof(path) ||
		    access(path, F_OK) < 0 || state_read(root_dir, e->d_name, &s) < 0)
			continue;
		found = s.netns[0] && state_status(&s) != OCI_STOPPED && file_same(s.netns, netns_path);
		if (found) {
			snprintf(owner, size, "%s", s.id);
			*pid = s.pid;
		}
		state_free(&s);
	}
	if (d)
		closedir(d);
	return found;
}

// Binds src (its mounts beneath too, unless nonrecursive) at dst, read-only if asked, never
// set-id or devices. 0 or -errno.
static int bind_detached(const char *src, const char *dst, bool recursive, bool readonly)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0)};
	int r = fd < 0 || mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0 ||
			move_mount(fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0
		    ? -errno
		    : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

// The mount point for a volume: an empty file for a file, else a directory.
static int make_point(const char *path, bool file)
{
	if (!file)
		return mkdir(path, 0700) < 0 ? -errno : 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int pod_bind(const char *owner_dir, const char *id, const struct vm_config *cfg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pod/%s", owner_dir, id);
	int r = mkdir(path, 0700) < 0 ? -errno : bind_detached(cfg->rootfs, path, true, cfg->read_only);
	if (r < 0) {
		log_err(r, "the pod's share: container %s's root %s", id, cfg->rootfs);
		rmdir(path);
		return r;
	}
	snprintf(path, sizeof(path), "%s/pod/.%s", owner_dir, id);
	if (mkdir(path, 0700) < 0)
		r = log_err(errno, "%s", path);
	unsigned i = 0;
	for (; r == 0 && i < cfg->nvolumes; i++) {
		const struct vm_volume *v = &cfg->volumes[i];
		snprintf(path, sizeof(path), "%s/pod/.%s/%u", owner_dir, id, i);
		if ((r = make_point(path, v->file) ?: bind_detached(v->host, path, !v->nonrecursive, v->readonly)) < 0)
			log_err(r, "the pod's share: container %s's volume %s", id, v->host);
	}
	if (r < 0)
		pod_unbind(owner_dir, id, i);
	return r;
}

// Unmounts path and removes its mount point, never what is beneath it: rmdir and unlink take
// only an empty directory and a mount point that nothing covers any more.
static void unbind(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_err(errno, "unmounting %s", path);
	if (rmdir(path) < 0 && errno == ENOTDIR)
		unlink(path);
}

void pod_unbind(const char *owner_dir, const char *id, unsigned nvolumes)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pod/%s", owner_dir, id);
	unbind(path);
	for (unsigned i = 0; i < nvolumes && i < CONFIG_MAX_VOLUMES; i++) {
		snprintf(path, sizeof(path), "%s/pod/.%s/%u", owner_dir, id, i);
		unbind(path);
	}
	snprintf(path, sizeof(path), "%s/pod/.%s", owner_dir, id);
	rmdir(path);
}

void pod_share_remove(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pod", dir);
	// Detached with everything bound in it: what is left beneath is empty mount points.
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_err(errno, "unmounting %s", path);
}
