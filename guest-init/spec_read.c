// SPDX-License-Identifier: Apache-2.0
// guest-init's reader of the launch spec (a flattened device tree built by the VMM's spec.c):
// each property is checked for its type and length before it is used, strings must end in
// their NUL, and a malformed spec is one error naming the field, never a crash.
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "spec_read.h"

// A NUL-separated string list property as a NULL-terminated array (pointing into the FDT).
static int strlist(const void *fdt, int node, const char *name, char ***out)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);
	if (!p || len < 0 || (len > 0 && p[len - 1] != '\0'))
		return -EINVAL;
	size_t n = 0;
	for (int i = 0; i < len; i++)
		n += p[i] == '\0';
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = (char *)p;
		p += strlen(p) + 1;
	}
	*out = v;
	return 0;
}

static const char *str(const void *fdt, int node, const char *name)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);
	return p && len > 0 && p[len - 1] == '\0' && strlen(p) == (size_t)len - 1 ? p : NULL;
}

static int u32(const void *fdt, int node, const char *name, uint32_t *out)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
	if (!p || len != 4)
		return -EINVAL;
	*out = fdt32_to_cpu(*p);
	return 0;
}

static bool flag(const void *fdt, int node, const char *name)
{
	return fdt_getprop(fdt, node, name, NULL) != NULL;
}

static bool is_node(const void *fdt, int node, const char *prefix)
{
	const char *name = fdt_get_name(fdt, node, NULL);
	return name && !strncmp(name, prefix, strlen(prefix));
}

static int read_volumes(const void *fdt, int parent, struct launch_workload *w, const char **bad)
{
	int node;
	fdt_for_each_subnode(node, fdt, parent) {
		if (!is_node(fdt, node, "volume@"))
			continue;
		*bad = "a volume";
		if (w->nvolumes == LAUNCH_MAX_VOLUMES)
			return -E2BIG;
		struct launch_volume *v = &w->volumes[w->nvolumes++];
		v->tag = str(fdt, node, "tag");
		v->target = str(fdt, node, "target");
		v->readonly = flag(fdt, node, "readonly");
		v->file = flag(fdt, node, "file");
		v->virtiofs = flag(fdt, node, "virtiofs");
		v->pod = flag(fdt, node, "pod");
		if (!v->tag || !v->target || v->target[0] != '/')
			return -EINVAL;
	}
	return 0;
}

static int read_workload(const void *fdt, int node, struct launch_workload *w, const char **bad)
{
	int r;
	if ((r = strlist(fdt, node, "argv", &w->argv)) < 0)
		return *bad = "argv", r;
	if (!w->argv[0])
		return *bad = "argv (empty)", -EINVAL;
	if ((r = strlist(fdt, node, "env", &w->env)) < 0)
		return *bad = "env", r;
	if (!(w->cwd = str(fdt, node, "cwd")))
		return *bad = "cwd", -EINVAL;
	if (u32(fdt, node, "uid", &w->uid) < 0)
		return *bad = "uid", -EINVAL;
	if (u32(fdt, node, "gid", &w->gid) < 0)
		return *bad = "gid", -EINVAL;
	int glen;
	const fdt32_t *groups = fdt_getprop(fdt, node, "groups", &glen);
	if (groups && (glen % 4 || glen / 4 > LAUNCH_MAX_GROUPS))
		return *bad = "groups", -EINVAL;
	for (int i = 0; groups && i < glen / 4; i++)
		w->groups[w->ngroups++] = fdt32_to_cpu(groups[i]);
	if (!(w->root_tag = str(fdt, node, "root-tag")))
		return *bad = "root-tag", -EINVAL;
	w->root_readonly = flag(fdt, node, "root-readonly");
	w->root_virtiofs = flag(fdt, node, "root-virtiofs");
	if (fdt_getprop(fdt, node, "pre-start", NULL) &&
	    ((r = strlist(fdt, node, "pre-start", &w->pre_start)) < 0 || !w->pre_start[0]))
		return *bad = "pre-start", r < 0 ? r : -EINVAL;
	int llen;
	const fdt32_t *lim = fdt_getprop(fdt, node, "rlimits", &llen);
	if (lim && (llen % 20 || llen / 20 > LAUNCH_MAX_RLIMITS))
		return *bad = "rlimits", -EINVAL;
	for (int i = 0; lim && i < llen / 20; i++) {
		struct launch_rlimit *l = &w->rlimits[w->nrlimits++];
		l->resource = fdt32_to_cpu(lim[i * 5]);
		l->soft = (uint64_t)fdt32_to_cpu(lim[i * 5 + 1]) << 32 | fdt32_to_cpu(lim[i * 5 + 2]);
		l->hard = (uint64_t)fdt32_to_cpu(lim[i * 5 + 3]) << 32 | fdt32_to_cpu(lim[i * 5 + 4]);
		if (l->resource >= LAUNCH_MAX_RLIMITS || l->soft > l->hard)
			return *bad = "rlimits", -EINVAL;
	}
	w->no_new_privs = flag(fdt, node, "no-new-privs");
	int clen;
	const fdt32_t *caps = fdt_getprop(fdt, node, "capabilities", &clen);
	if (caps && clen != 8)
		return *bad = "capabilities", -EINVAL;
	if (caps) {
		w->bound_caps = true;
		w->caps = (uint64_t)fdt32_to_cpu(caps[0]) << 32 | fdt32_to_cpu(caps[1]);
	}
	return read_volumes(fdt, node, w, bad);
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Walks the structure block's tokens with every length bounded before libfdt sees it: the
// libfdt of Debian 12 (1.6.1) loops forever in fdt_check_full on a property whose length is
// negative, and crashes on a header older than version 17 (both found by fuzzing this reader).
// The builder writes version 17, the first with the structure block's size.
static bool tokens_bounded(const uint8_t *fdt, size_t size)
{
	if (size < 40 || be32_at(fdt + 20) < 17)
		return false;
	uint32_t total = be32_at(fdt + 4), off = be32_at(fdt + 8), len = be32_at(fdt + 36);
	if (total > size || off > total || len > total - off)
		return false;
	const uint8_t *p = fdt + off, *end = p + len;
	while (p + 4 <= end) {
		uint32_t tag = be32_at(p);
		p += 4;
		if (tag == FDT_BEGIN_NODE) {
			const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
			if (!nul)
				return false;
			size_t skip = ((size_t)(nul - p) + 1 + 3) & ~(size_t)3;
			if (skip > (size_t)(end - p))
				return false;
			p += skip;
		} else if (tag == FDT_PROP) {
			if (end - p < 8)
				return false;
			size_t plen = be32_at(p);
			p += 8;
			size_t skip = (plen + 3) & ~(size_t)3;
			if (plen > (size_t)(end - p) || skip > (size_t)(end - p))
				return false;
			p += skip;
		} else if (tag == FDT_END) {
			return true;
		} else if (tag != FDT_END_NODE && tag != FDT_NOP) {
			return false;
		}
	}
	return false;
}

int launch_spec_read(const void *fdt, size_t size, unsigned max_apps, struct launch_spec *s,
		     const char **bad)
{
	memset(s, 0, sizeof(*s));
	*bad = "the launch spec (not a valid FDT)";
	if (size > INT32_MAX || !tokens_bounded(fdt, size) || fdt_check_full(fdt, size) != 0)
		return -EINVAL;
	s->milestones = flag(fdt, 0, "milestones");
	s->tty = flag(fdt, 0, "tty");
	s->stdin = flag(fdt, 0, "stdin");
	s->exec = flag(fdt, 0, "exec");
	int len;
	const fdt32_t *ts = fdt_getprop(fdt, 0, "tty-size", &len);
	if (ts && len == 8) {
		s->tty_size = true;
		s->tty_rows = (uint16_t)fdt32_to_cpu(ts[0]);
		s->tty_cols = (uint16_t)fdt32_to_cpu(ts[1]);
	}
	if (!(s->hostname = str(fdt, 0, "hostname")))
		return *bad = "hostname", -EINVAL;
	if (fdt_getprop(fdt, 0, "resolv-conf", NULL) && !(s->resolv_conf = str(fdt, 0, "resolv-conf")))
		return *bad = "resolv-conf", -EINVAL;
	if (fdt_getprop(fdt, 0, "hosts", NULL) && !(s->hosts = str(fdt, 0, "hosts")))
		return *bad = "hosts", -EINVAL;
	int net = fdt_subnode_offset(fdt, 0, "net");
	if (net >= 0) {
		struct launch_net *e = &s->eth;
		uint32_t prefix = 0;
		const void *mac = fdt_getprop(fdt, net, "mac", &len);
		if (u32(fdt, net, "mtu", &e->mtu) || e->mtu < 68 || e->mtu > 65535 || !mac || len != 6)
			return *bad = "net", -EINVAL;
		memcpy(e->mac, mac, 6);
		// IPv4 when all three are given, IPv6 likewise; one of them at least.
		if (fdt_getprop(fdt, net, "address", NULL) || fdt_getprop(fdt, net, "gateway", NULL) ||
		    fdt_getprop(fdt, net, "prefix", NULL)) {
			if (u32(fdt, net, "address", &e->address) || u32(fdt, net, "gateway", &e->gateway) ||
			    u32(fdt, net, "prefix", &prefix) || prefix < 1 || prefix > 32)
				return *bad = "net", -EINVAL;
			e->v4 = true;
			e->prefix = prefix;
		}
		int alen = 0, glen = 0;
		const void *a6 = fdt_getprop(fdt, net, "address6", &alen);
		const void *g6 = fdt_getprop(fdt, net, "gateway6", &glen);
		if (a6 || g6 || fdt_getprop(fdt, net, "prefix6", NULL)) {
			if (!a6 || alen != 16 || !g6 || glen != 16 ||
			    u32(fdt, net, "prefix6", &prefix) || prefix < 1 || prefix > 128)
				return *bad = "net", -EINVAL;
			e->v6 = true;
			e->prefix6 = prefix;
			memcpy(e->address6, a6, 16);
			memcpy(e->gateway6, g6, 16);
		}
		if (!e->v4 && !e->v6)
			return *bad = "net", -EINVAL;
		s->net = true;
	}
	const fdt32_t *rt = fdt_getprop(fdt, 0, "realtime-ns", &len);
	if (rt && len != 8)
		return *bad = "realtime-ns", -EINVAL;
	if (rt) {
		s->realtime = true;
		s->realtime_ns = (uint64_t)fdt32_to_cpu(rt[0]) << 32 | fdt32_to_cpu(rt[1]);
	}
	s->seed = fdt_getprop(fdt, 0, "seed", &len);
	s->seed_len = s->seed ? (size_t)len : 0;
	int node;
	fdt_for_each_subnode(node, fdt, 0)
		s->napps += is_node(fdt, node, "app@");
	s->pod = s->napps > 0;
	if (s->napps > max_apps)
		return *bad = "apps", -E2BIG;
	s->apps = calloc(s->pod ? s->napps : 1, sizeof(*s->apps));
	if (!s->apps)
		return *bad = "memory", -ENOMEM;
	if (!s->pod) {
		s->napps = 1;
		return read_workload(fdt, 0, &s->apps[0], bad);
	}
	unsigned i = 0;
	fdt_for_each_subnode(node, fdt, 0) {
		if (!is_node(fdt, node, "app@"))
			continue;
		struct launch_workload *w = &s->apps[i++];
		if (!(w->name = str(fdt, node, "name")))
			return *bad = "an app's name", -EINVAL;
		int r = read_workload(fdt, node, w, bad);
		if (r < 0)
			return r;
	}
	return 0;
}

void launch_spec_free(struct launch_spec *s)
{
	for (unsigned i = 0; s->apps && i < s->napps; i++) {
		free(s->apps[i].argv);
		free(s->apps[i].env);
		free(s->apps[i].pre_start);
	}
	free(s->apps);
	memset(s, 0, sizeof(*s));
}
