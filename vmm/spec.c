// SPDX-License-Identifier: Apache-2.0
// Launch spec builder: argv, env and the rest as FDT properties, any bytes, any length, then
// packed as a cpio the kernel unpacks next to guest-init.
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../guest-init/abi.h"
#include "spec.h"
#include "util.h"

void spec_volume_tag(unsigned index, char *buf, size_t size)
{
	snprintf(buf, size, ABI_VOLUME_TAG "%u", index);
}

static size_t strlist_size(char *const *list)
{
	size_t n = 0;
	for (; *list; list++)
		n += strlen(*list) + 1;
	return n;
}

static int prop_strlist(void *fdt, const char *name, char *const *list)
{
	size_t size = strlist_size(list);
	_cleanup_free_ char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	size_t off = 0;
	for (; *list; list++) {
		size_t l = strlen(*list) + 1;
		memcpy(buf + off, *list, l);
		off += l;
	}
	return fdt_property(fdt, name, buf, (int)size) ? -EINVAL : 0;
}

// The size an FDT for one workload needs, generously.
static size_t workload_size(const struct vm_config *w)
{
	size_t size = 1024 + strlist_size(w->argv) + strlist_size(w->env) + strlen(w->workdir) +
		      (w->pre_start ? strlist_size(w->pre_start) : 0);
	for (unsigned i = 0; i < w->nvolumes; i++)
		size += 128 + strlen(w->volumes[i].guest);
	return size + (w->app_name ? strlen(w->app_name) : 0);
}

// One workload's properties and volume subnodes in the current node; its volumes take the
// share tags from *next_volume on (spec_share_tags gives the VMM the same order).
static int put_workload(void *fdt, const struct vm_config *w, const char *root_tag, bool virtiofs,
			bool volume_virtiofs, unsigned *next_volume)
{
	int r = prop_strlist(fdt, "argv", w->argv);
	if (r < 0 || (r = prop_strlist(fdt, "env", w->env)) < 0)
		return r;
	fdt32_t groups[CONFIG_MAX_GROUPS];
	for (unsigned i = 0; i < w->ngroups; i++)
		groups[i] = cpu_to_fdt32(w->groups[i]);
	r = fdt_property_string(fdt, "cwd", w->workdir);
	r = r ?: fdt_property_u32(fdt, "uid", w->uid);
	r = r ?: fdt_property_u32(fdt, "gid", w->gid);
	r = r ?: fdt_property(fdt, "groups", groups, (int)(w->ngroups * sizeof(groups[0])));
	r = r ?: fdt_property_string(fdt, "root-tag", root_tag);
	if (!r && w->pre_start)
		r = prop_strlist(fdt, "pre-start", w->pre_start);
	if (!r && w->nrlimits) {
		fdt32_t lim[CONFIG_MAX_RLIMITS * 5];
		for (unsigned i = 0; i < w->nrlimits; i++) {
			const struct vm_rlimit *l = &w->rlimits[i];
			uint32_t v[5] = {l->resource, (uint32_t)(l->soft >> 32), (uint32_t)l->soft,
					 (uint32_t)(l->hard >> 32), (uint32_t)l->hard};
			for (int k = 0; k < 5; k++)
				lim[i * 5 + k] = cpu_to_fdt32(v[k]);
		}
		r = fdt_property(fdt, "rlimits", lim, (int)(w->nrlimits * 5 * sizeof(lim[0])));
	}
	if (!r && w->no_new_privs)
		r = fdt_property(fdt, "no-new-privs", NULL, 0);
	if (!r && w->bound_caps) {
		fdt32_t caps[2] = {cpu_to_fdt32((uint32_t)(w->caps >> 32)), cpu_to_fdt32((uint32_t)w->caps)};
		r = fdt_property(fdt, "capabilities", caps, sizeof(caps));
	}
	if (!r && w->read_only)
		r = fdt_property(fdt, "root-readonly", NULL, 0);
	if (!r && virtiofs)
		r = fdt_property(fdt, "root-virtiofs", NULL, 0);
	for (unsigned i = 0; i < w->nvolumes && !r; i++) {
		char node[32], tag[32];
		snprintf(node, sizeof(node), "volume@%u", i);
		spec_volume_tag((*next_volume)++, tag, sizeof(tag));
		r = fdt_begin_node(fdt, node);
		r = r ?: fdt_property_string(fdt, "tag", tag);
		r = r ?: fdt_property_string(fdt, "target", w->volumes[i].guest);
		if (!r && w->volumes[i].readonly)
			r = fdt_property(fdt, "readonly", NULL, 0);
		if (!r && w->volumes[i].file)
			r = fdt_property(fdt, "file", NULL, 0);
		if (!r && volume_virtiofs)
			r = fdt_property(fdt, "virtiofs", NULL, 0);
		if (!r && w->volumes[i].pod)
			r = fdt_property(fdt, "pod", NULL, 0);
		r = r ?: fdt_end_node(fdt);
	}
	return r ? -EINVAL : 0;
}

// eth0, set up by guest-init from these (no DHCP); a subnode, so after every property.
static int put_net(void *fdt, const struct vm_net *n)
{
	int r = fdt_begin_node(fdt, "net");
	if (n->v4) {
		r = r ?: fdt_property_u32(fdt, "address", n->addr);
		r = r ?: fdt_property_u32(fdt, "prefix", n->prefix);
		r = r ?: fdt_property_u32(fdt, "gateway", n->gateway);
	}
	r = r ?: fdt_property_u32(fdt, "mtu", n->mtu);
	r = r ?: fdt_property(fdt, "mac", n->mac, sizeof(n->mac));
	if (n->v6) {
		r = r ?: fdt_property(fdt, "address6", n->addr6, sizeof(n->addr6));
		r = r ?: fdt_property_u32(fdt, "prefix6", n->prefix6);
		r = r ?: fdt_property(fdt, "gateway6", n->gateway6, sizeof(n->gateway6));
	}
	r = r ?: fdt_end_node(fdt);
	return r ? -EINVAL : 0;
}

void spec_app_tag(unsigned index, char *buf, size_t size)
{
	snprintf(buf, size, ABI_APP_TAG "%u", index);
}

int spec_build_fdt(const struct vm_config *cfg, void **out, size_t *out_size)
{
	size_t size = 8192 + strlen(cfg->hostname) + (cfg->resolv_conf ? strlen(cfg->resolv_conf) : 0) +
		      (cfg->hosts ? strlen(cfg->hosts) : 0);
	for (unsigned a = 0; a < cfg->napps; a++)
		size += workload_size(&cfg->apps[a]);
	if (!cfg->napps)
		size += workload_size(cfg);
	if (size > INT32_MAX)
		return -E2BIG;
	_cleanup_free_ void *fdt = malloc(size);
	if (!fdt)
		return -ENOMEM;
	int r = fdt_create(fdt, (int)size);
	r = r ?: fdt_finish_reservemap(fdt);
	r = r ?: fdt_begin_node(fdt, "");
	r = r ?: fdt_property_string(fdt, "hostname", cfg->hostname);
	if (!r && cfg->resolv_conf)
		r = fdt_property_string(fdt, "resolv-conf", cfg->resolv_conf);
	if (!r && cfg->hosts)
		r = fdt_property_string(fdt, "hosts", cfg->hosts);
	if (!r && cfg->interactive)
		r = fdt_property(fdt, "stdin", NULL, 0);
	if (!r && cfg->tty)
		r = fdt_property(fdt, "tty", NULL, 0);
	if (!r && cfg->exec)
		r = fdt_property(fdt, "exec", NULL, 0);
	if (!r && (cfg->boot_trace || cfg->stats_json || cfg->verbose || cfg->napps))
		r = fdt_property(fdt, "milestones", NULL, 0);
	if (!r && cfg->tty && cfg->tty_rows && cfg->tty_cols) {
		fdt32_t wsize[2] = {cpu_to_fdt32(cfg->tty_rows), cpu_to_fdt32(cfg->tty_cols)};
		r = fdt_property(fdt, "tty-size", wsize, sizeof(wsize));
	}
	if (r)
		return -EINVAL;
	unsigned next_volume = 0;
	if (!cfg->napps && (r = put_workload(fdt, cfg, ABI_ROOT_TAG, cfg->fs == FS_VIRTIOFS,
						 cfg->volume_fs == FS_VIRTIOFS, &next_volume)) < 0)
		return r;
	for (unsigned a = 0; a < cfg->napps && !r; a++) {
		char node[32], tag[32];
		snprintf(node, sizeof(node), "app@%u", a);
		spec_app_tag(a, tag, sizeof(tag));
		if (fdt_begin_node(fdt, node) || fdt_property_string(fdt, "name", cfg->apps[a].app_name))
			return -EINVAL;
		r = put_workload(fdt, &cfg->apps[a], tag, cfg->fs == FS_VIRTIOFS,
				 cfg->volume_fs == FS_VIRTIOFS, &next_volume);
		r = r ?: (fdt_end_node(fdt) ? -EINVAL : 0);
	}
	if (!r && cfg->network != NETWORK_NONE && put_net(fdt, &cfg->net) < 0)
		r = -EINVAL;
	if (r || fdt_end_node(fdt) || fdt_finish(fdt))
		return r ? r : -EINVAL;
	*out_size = fdt_totalsize(fdt);
	*out = steal_pointer(&fdt);
	return 0;
}

static size_t cpio_entry(uint8_t *p, const char *name, unsigned mode, const void *data, size_t size)
{
	size_t namesize = strlen(name) + 1;
	size_t hdr = 110 + namesize, off = 0;
	if (p) {
		char h[128];
		snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			 0u, mode, 0u, 0u, 1u, 0u, (uint32_t)size, 0u, 0u, 0u, 0u, (uint32_t)namesize, 0u);
		memcpy(p, h, 110);
		memcpy(p + 110, name, namesize);
	}
	off = ALIGN_UP(hdr, (size_t)4);
	if (p && size)
		memcpy(p + off, data, size);
	off += ALIGN_UP(size, (size_t)4);
	return off;
}

int spec_build_cpio(const char *path, const void *data, size_t size, uint8_t **out, size_t *out_size)
{
	char dir[256];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir) || size > UINT32_MAX)
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	const char *dname = dir[0] == '/' ? dir + 1 : dir;
	const char *fname = path[0] == '/' ? path + 1 : path;

	size_t total = cpio_entry(NULL, dname, 040755, NULL, 0) +
		       cpio_entry(NULL, fname, 0100644, NULL, size) +
		       cpio_entry(NULL, "TRAILER!!!", 0, NULL, 0);
	uint8_t *buf = calloc(1, total);
	if (!buf)
		return -ENOMEM;
	size_t off = cpio_entry(buf, dname, 040755, NULL, 0);
	off += cpio_entry(buf + off, fname, 0100644, data, size);
	off += cpio_entry(buf + off, "TRAILER!!!", 0, NULL, 0);
	*out = buf;
	*out_size = off;
	return 0;
}

int spec_build_archive(const struct vm_config *cfg, uint8_t **out, size_t *out_size)
{
	_cleanup_free_ void *fdt = NULL;
	size_t fdt_size;
	int r = spec_build_fdt(cfg, &fdt, &fdt_size);
	return r < 0 ? r : spec_build_cpio(ABI_SPEC_PATH, fdt, fdt_size, out, out_size);
}

int spec_build_restored(const struct vm_config *cfg, void **out, size_t *out_size)
{
	_cleanup_free_ void *fdt = NULL;
	size_t size;
	int r = spec_build_fdt(cfg, &fdt, &size);
	if (r < 0)
		return r;
	size_t big = size + 256;
	_cleanup_free_ void *spec = malloc(big);
	uint8_t seed[SPEC_SEED_BYTES];
	if (!spec)
		return -ENOMEM;
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -errno;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	fdt32_t rt[2] = {cpu_to_fdt32((uint32_t)(ns >> 32)), cpu_to_fdt32((uint32_t)ns)};
	if (fdt_open_into(fdt, spec, (int)big) || fdt_setprop(spec, 0, "realtime-ns", rt, sizeof(rt)) ||
	    fdt_setprop(spec, 0, "seed", seed, sizeof(seed)) || fdt_pack(spec))
		return -EINVAL;
	explicit_bzero(seed, sizeof(seed));
	*out_size = fdt_totalsize(spec);
	*out = steal_pointer(&spec);
	return 0;
}
