// SPDX-License-Identifier: Apache-2.0
// Template fast start. The first run for a set of inputs boots a VM with no launch spec until
// guest-init says it waits for one, and saves its RAM (a sparse file) and state in the
// template directory; every run after that maps the RAM copy-on-write and sets the state
// back. A template is named by a hash of everything that shapes the saved VM: the kernel and
// initramfs (identity: device, inode, size, times), memory size, vCPUs, command line
// options, the host kernel and the clearvm binary itself. Any change gives another name, so a
// stale template is never used; it is rebuilt under its new name.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "devnodes.h"
#include "snapshot.h"
#include "template.h"
#include "vm.h"

bool template_wanted(const struct vm_config *cfg)
{
	return !cfg->no_template && !cfg->napps;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static int fnv_file(uint64_t *h, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	uint64_t id[7] = {st.st_dev, st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
			  (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec};
	*h = fnv(*h, id, sizeof(id));
	return 0;
}

static int template_key(const struct vm_config *cfg, uint64_t *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct utsname u;
	uname(&u);
	h = fnv_str(h, u.release);
	h = fnv_str(h, u.version);
	int r = fnv_file(&h, "/proc/self/exe");
	r = r ?: fnv_file(&h, cfg->kernel);
	r = r ?: fnv_file(&h, cfg->initramfs);
	// The CPU KVM offers: a template saved on another CPU (a host moved to new hardware, or a
	// KVM module reloaded with other features) may hold state this one refuses.
	int kvm = r ? -1 : devnode_open("/dev/kvm", O_RDWR | O_CLOEXEC);
	struct kvm_cpuid2 *cpuid = NULL;
	if (!r && (kvm < 0 || (r = kvm_supported_cpuid(kvm, &cpuid)) < 0))
		r = r ?: -errno;
	if (cpuid)
		h = fnv(h, cpuid->entries, cpuid->nent * sizeof(cpuid->entries[0]));
	free(cpuid);
	if (kvm >= 0)
		close(kvm);
	// No card, passt's or a tap's (which offers TSO): a template of each (the card's address is
	// set per run; vhost-net or not is the same card).
	uint64_t nums[7] = {cfg->memory_mib, cfg->cpus, cfg->console, sizeof(struct snapshot),
			    cfg->network, cfg->fs, cfg->volume_fs};
	h = fnv(h, nums, sizeof(nums));
	h = fnv_str(h, cfg->append);
	*key = h;
	return r;
}

// --template-dir (or $CLEARVM_TEMPLATE_DIR), else $XDG_CACHE_HOME/clearvm/templates, else
// ~/.cache/clearvm/templates;
// made (0700) when missing.
static int template_dir(const struct vm_config *cfg, char *dir, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n = cfg->template_dir ? snprintf(dir, size, "%s", cfg->template_dir)
		: xdg && xdg[0]	  ? snprintf(dir, size, "%s/clearvm/templates", xdg)
		: home && home[0] ? snprintf(dir, size, "%s/.cache/clearvm/templates", home)
				  : -1;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

// Guest RAM to a sparse file: only the memfd's data extents (the template boot copies every
// image into it), holes stay holes.
static int save_memory(const struct vm *vm, int fd)
{
	if (ftruncate(fd, (off_t)vm->mem.size) < 0)
		return -errno;
	off_t off = 0, size = (off_t)vm->mem.size;
	while (off < size) {
		off_t data = lseek(vm->mem_fd, off, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t hole = lseek(vm->mem_fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		for (off_t p = data; p < hole;) {
			ssize_t n = pwrite(fd, vm->mem.base + p, (size_t)(hole - p), p);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			p += n;
		}
		off = hole;
	}
	return 0;
}

static int write_file(const char *path, int (*fill)(int fd, void *ctx), void *ctx)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fill(fd, ctx);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

struct build {
	struct vm *vm;
	struct snapshot *snap;
	uint64_t key;
};

static int fill_memory(int fd, void *ctx)
{
	return save_memory(((struct build *)ctx)->vm, fd);
}

static int fill_state(int fd, void *ctx)
{
	struct build *b = ctx;
	return snapshot_write(fd, b->snap, b->key, b->vm->mem.size);
}

int template_open(const struct vm_config *cfg, struct template *t)
{
	memset(t, 0, sizeof(*t));
	t->mem_fd = t->lock_fd = -1;
	char dir[PATH_MAX - 64], lock_path[PATH_MAX];
	int r = template_key(cfg, &t->key);
	r = r ?: template_dir(cfg, dir, sizeof(dir));
	if (r < 0) {
		log_debug("template: %s: booting cold", strerror(-r));
		return r;
	}
	snprintf(t->path, sizeof(t->path), "%s/%016llx.state", dir, (unsigned long long)t->key);
	snprintf(t->mem_path, sizeof(t->mem_path), "%s/%016llx.mem", dir, (unsigned long long)t->key);
	snprintf(lock_path, sizeof(lock_path), "%s/%016llx.lock", dir, (unsigned long long)t->key);
	t->mem_size = cfg->memory_mib << 20;
	t->cpus = cfg->cpus;
	t->snap = malloc(sizeof(*t->snap));
	t->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (!t->snap || t->lock_fd < 0 || flock(t->lock_fd, LOCK_EX) < 0) {
		r = !t->snap ? -ENOMEM : -errno;
		log_debug("template %s: %s: booting cold", lock_path, strerror(-r));
		template_release(t);
		return r;
	}
	r = template_load(t);
	if (r == 0)
		return 0;
	if (r != -ENOENT)
		log_debug("template %s: %s: building it again", t->path, strerror(-r));
	return 1;
}

int template_load(struct template *t)
{
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = snapshot_read(fd, t->snap, t->key, t->mem_size, t->cpus);
	close(fd);
	if (r < 0)
		return r;
	t->mem_fd = open(t->mem_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (t->mem_fd < 0 || fstat(t->mem_fd, &st) < 0)
		return -errno;
	return (uint64_t)st.st_size == t->mem_size ? 0 : -ESTALE;
}

int template_save(struct template *t, struct vm *vm)
{
	int r = snapshot_save(vm, t->snap);
	char mem_tmp[PATH_MAX + 32], state_tmp[PATH_MAX + 32];
	snprintf(mem_tmp, sizeof(mem_tmp), "%s.%d.tmp", t->mem_path, getpid());
	snprintf(state_tmp, sizeof(state_tmp), "%s.%d.tmp", t->path, getpid());
	struct build b = {.vm = vm, .snap = t->snap, .key = t->key};
	r = r ?: write_file(mem_tmp, fill_memory, &b);
	r = r ?: write_file(state_tmp, fill_state, &b);
	// The memory first: a state file is only ever there with its memory.
	if (r == 0 && (rename(mem_tmp, t->mem_path) < 0 || rename(state_tmp, t->path) < 0))
		r = -errno;
	unlink(mem_tmp);
	unlink(state_tmp);
	return r;
}

void template_unlock(struct template *t)
{
	if (t->lock_fd >= 0)
		close(t->lock_fd); // closing it lets the lock go
	t->lock_fd = -1;
}

void template_release(struct template *t)
{
	template_unlock(t);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
	free(t->snap);
	t->snap = NULL;
}
