// SPDX-License-Identifier: Apache-2.0
// The device plan: shares in the order the launch spec names their tags, then the console
// with the ports guest-init looks for, then the balloon, then the network card.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "spec.h"

static int add(struct vm_plan *p, const char *tag, const struct jail_share *share)
{
	if (p->nshares == sizeof(p->shares) / sizeof(p->shares[0]))
		return -ENOSPC;
	struct plan_share *s = &p->shares[p->nshares++];
	memset(s, 0, sizeof(*s));
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->spare = !share;
	if (share)
		s->share = *share;
	return 0;
}

static struct jail_share volume_share(const struct vm_volume *v)
{
	return (struct jail_share){.path = v->host,
				   .readonly = v->readonly,
				   .file = v->file,
				   .nonrecursive = v->nonrecursive,
				   .propagate = v->pod};
}

// A workload's root and its volumes, the volumes tagged in the order the launch spec names them.
static int add_workload(struct vm_plan *p, const struct vm_config *w, const char *root_tag,
			unsigned *next_volume)
{
	struct jail_share root = {.path = w->rootfs, .readonly = w->read_only};
	int r = add(p, root_tag, &root);
	if (r == 0)
		p->shares[p->nshares - 1].root = true;
	for (unsigned i = 0; i < w->nvolumes && r == 0; i++) {
		char tag[32];
		spec_volume_tag((*next_volume)++, tag, sizeof(tag));
		struct jail_share vol = volume_share(&w->volumes[i]);
		r = add(p, tag, &vol);
	}
	return r;
}

// Every port guest-init may look for, in the order of their indices (guest-init/abi.h); a VM
// has the first ABI_NR_PORTS, or all of them.
static const char *const port_names[ABI_NR_ENTER_PORTS] = {
    "stdout",	      "stderr",	        "stdin",	 "control", "spec", "enter",
    "enter-stdout.0", "enter-stderr.0", "enter-stdin.0", "enter-stdout.1", "enter-stderr.1",
    "enter-stdin.1",  "enter-stdout.2", "enter-stderr.2", "enter-stdin.2",  "enter-stdout.3",
    "enter-stderr.3", "enter-stdin.3"};
_Static_assert(ABI_ENTER_SESSIONS == 4, "a name for each session's ports");

static void ports(struct vm_plan *p, const char *const *names, unsigned n, bool host_ends)
{
	for (unsigned i = 0; i < n; i++) {
		p->port_names[i] = names[i];
		// stdout and stderr go to clearvm's own from the start; the others get their host
		// end when there is one (stdin, enter) or are written by clearvm (control, spec).
		p->port_fds[i] = host_ends && i == ABI_PORT_STDOUT   ? STDOUT_FILENO
				 : host_ends && i == ABI_PORT_STDERR ? STDERR_FILENO
								     : -1;
	}
	p->nports = n;
}

int vm_plan(const struct vm_config *cfg, enum vm_mode mode, struct vm_plan *p)
{
	memset(p, 0, sizeof(*p));
	int r = 0;
	p->nic = cfg->network != NETWORK_NONE;
	if (mode != VM_COLD) {
		// A template's devices are the same for every VM restored from it.
		bool restore = mode == VM_RESTORE;
		struct jail_share root = {.path = cfg->rootfs, .readonly = cfg->read_only};
		r = add(p, ABI_ROOT_TAG, restore ? &root : NULL);
		p->shares[0].root = true;
		for (unsigned i = 0; i < CONFIG_MAX_VOLUMES && r == 0; i++) {
			char tag[32];
			spec_volume_tag(i, tag, sizeof(tag));
			struct jail_share vol = restore && i < cfg->nvolumes
						    ? volume_share(&cfg->volumes[i])
						    : (struct jail_share){0};
			r = add(p, tag, restore && i < cfg->nvolumes ? &vol : NULL);
		}
		ports(p, port_names, ABI_NR_ENTER_PORTS, restore);
		return r;
	}
	unsigned next_volume = 0;
	if (!cfg->napps)
		r = add_workload(p, cfg, ABI_ROOT_TAG, &next_volume);
	for (unsigned a = 0; a < cfg->napps && r == 0; a++) {
		char tag[32];
		spec_app_tag(a, tag, sizeof(tag));
		r = add_workload(p, &cfg->apps[a], tag, &next_volume);
	}
	// A pod and an OCI container also get the ports of enter sessions (guest-init/abi.h).
	bool enter = cfg->napps || cfg->exec;
	ports(p, port_names, enter ? ABI_NR_ENTER_PORTS : ABI_NR_PORTS, true);
	return r;
}
