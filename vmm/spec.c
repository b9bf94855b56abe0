// SPDX-License-Identifier: Apache-2.0
// Launch spec builder: argv, env and the rest as FDT properties, any bytes, any length, then
// packed as a cpio the kernel unpacks next to guest-init.
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int spec_build_fdt(const struct vm_config *cfg, void **out, size_t *out_size)
{
	size_t size = 8192 + strlist_size(cfg->argv) + strlist_size(cfg->env) + strlen(cfg->workdir) +
		      strlen(cfg->hostname);
	for (unsigned i = 0; i < cfg->nvolumes; i++)
		size += 128 + strlen(cfg->volumes[i].guest);
	if (size > INT32_MAX)
		return -E2BIG;
	_cleanup_free_ void *fdt = malloc(size);
	if (!fdt)
		return -ENOMEM;
	int r = fdt_create(fdt, (int)size);
	r = r ?: fdt_finish_reservemap(fdt);
	r = r ?: fdt_begin_node(fdt, "");
	if (r)
		return -EINVAL;
	if ((r = prop_strlist(fdt, "argv", cfg->argv)) < 0 || (r = prop_strlist(fdt, "env", cfg->env)) < 0)
		return r;
	fdt32_t groups[CONFIG_MAX_GROUPS];
	for (unsigned i = 0; i < cfg->ngroups; i++)
		groups[i] = cpu_to_fdt32(cfg->groups[i]);
	r = fdt_property_string(fdt, "cwd", cfg->workdir);
	r = r ?: fdt_property_u32(fdt, "uid", cfg->uid);
	r = r ?: fdt_property_u32(fdt, "gid", cfg->gid);
	r = r ?: fdt_property(fdt, "groups", groups, (int)(cfg->ngroups * sizeof(groups[0])));
	r = r ?: fdt_property_string(fdt, "hostname", cfg->hostname);
	r = r ?: fdt_property_string(fdt, "root-tag", ABI_ROOT_TAG);
	if (!r && cfg->read_only)
		r = fdt_property(fdt, "root-readonly", NULL, 0);
	if (!r && cfg->interactive)
		r = fdt_property(fdt, "stdin", NULL, 0);
	if (!r && cfg->tty)
		r = fdt_property(fdt, "tty", NULL, 0);
	if (!r && (cfg->boot_trace || cfg->stats_json || cfg->verbose))
		r = fdt_property(fdt, "milestones", NULL, 0);
	if (!r && cfg->tty && cfg->tty_rows && cfg->tty_cols) {
		fdt32_t wsize[2] = {cpu_to_fdt32(cfg->tty_rows), cpu_to_fdt32(cfg->tty_cols)};
		r = fdt_property(fdt, "tty-size", wsize, sizeof(wsize));
	}
	for (unsigned i = 0; i < cfg->nvolumes && !r; i++) {
		char node[32], tag[32];
		snprintf(node, sizeof(node), "volume@%u", i);
		spec_volume_tag(i, tag, sizeof(tag));
		r = fdt_begin_node(fdt, node);
		r = r ?: fdt_property_string(fdt, "tag", tag);
		r = r ?: fdt_property_string(fdt, "target", cfg->volumes[i].guest);
		if (!r && cfg->volumes[i].readonly)
			r = fdt_property(fdt, "readonly", NULL, 0);
		r = r ?: fdt_end_node(fdt);
	}
	r = r ?: fdt_end_node(fdt);
	r = r ?: fdt_finish(fdt);
	if (r)
		return -EINVAL;
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
