// SPDX-License-Identifier: Apache-2.0
// The run recipe shared by the clearvm command and the rkt stage1: template or cold boot,
// privileges dropped, the run, the trace, the teardown. Building a template is a step of its
// own here: a VM booted to its template point and saved, before the run's VM is built.
#include <string.h>

#include "devnodes.h"
#include "evloop.h"
#include "net/net.h"
#include "sandbox/privs.h"
#include "template.h"
#include "vmm.h"

// Builds the VM from its template, or cold; a template that loaded but cannot be restored
// (a KVM that refuses its saved state) gives a cold boot, as a failed template build does.
static int boot_vm(struct vm *vm, const struct vm_config *cfg)
{
	if (vm->mode != VM_RESTORE)
		return vm_build(vm, cfg);
	log_demoted = true; // said again by the cold boot if it is not the template's fault
	int r = vm_build(vm, cfg);
	log_demoted = false;
	if (r == 0)
		return 0;
	log_debug("the template could not be restored: booting cold");
	struct trace *trace = vm->trace;
	const struct net_backend *net = vm->net;
	vm_destroy(vm);
	memset(vm, 0, sizeof(*vm));
	vm->trace = trace;
	vm->net = net;
	trace->path = "cold";
	trace->template_build_ms = 0;
	vm->mode = VM_COLD;
	return vm_build(vm, cfg);
}

#define TEMPLATE_BOOT_TIMEOUT_S 60

// Building a template: a VM of cfg's shape (no shares, no launch spec) booted until guest-init
// waits for its spec, saved there.
static int build_template(const struct vm_config *cfg, struct template *t)
{
	struct vm_config c = *cfg;
	if (!c.timeout_s || c.timeout_s > TEMPLATE_BOOT_TIMEOUT_S)
		c.timeout_s = TEMPLATE_BOOT_TIMEOUT_S;
	static struct vm vm; // large: not on the stack
	memset(&vm, 0, sizeof(vm));
	vm.mode = VM_TEMPLATE_BUILD;
	vm.net = NULL; // the card is in the template; its backend is attached to each run's VM
	struct trace trace; // its own: the run's trace counts the template's build as one figure
	trace_start(&trace);
	vm.trace = &trace;
	log_demoted = true; // whatever fails here is said by the cold boot that follows, if it
			    // fails there too
	int r = vm_build(&vm, &c);
	r = r ?: vm_run_template(&vm);
	r = r ?: template_save(t, &vm);
	log_demoted = false;
	vm_destroy(&vm);
	return r;
}

// cfg's template, built first when there is none yet. 0 with t loaded, or -errno (logged as a
// debug message): the run boots cold.
static int get_template(const struct vm_config *cfg, struct template *t)
{
	int64_t t0 = monotonic_ns();
	int r = template_open(cfg, t);
	if (r < 0)
		return r; // said, and released
	if (r == 1) {
		r = build_template(cfg, t);
		r = r ?: template_load(t);
		t->built = r == 0;
		t->build_ms = t->built ? (double)(monotonic_ns() - t0) / 1e6 : 0;
	}
	template_unlock(t);
	if (r < 0) {
		log_debug("template %s: %s: booting cold", t->path, strerror(-r));
		template_release(t);
	}
	return r;
}

int vmm_main(struct vmm_launch *l)
{
	const struct vm_config *cfg = l->cfg;
	static struct vm vm; // large: not on the stack
	memset(&vm, 0, sizeof(vm));
	struct trace *trace = &l->trace;
	vm.trace = trace;
	trace->path = "cold";
	struct template tpl = {.mem_fd = -1, .lock_fd = -1};
	if (template_wanted(cfg) && get_template(cfg, &tpl) == 0) {
		vm.mode = VM_RESTORE;
		vm.tpl = &tpl;
		trace->path = tpl.built ? "template-built" : "template";
		trace->template_build_ms = tpl.build_ms;
	}
	static struct io_thread io; // what serves the machine: built with it, started by vm_run
	io_thread_init(&io, &vm, cfg);
	io.hooks = l->hooks;
	// The network's backend starts first: it is up by the time the guest sends.
	struct net_backend net = {.fd = -1, .vhost = -1};
	int status = EXIT_CLEARVM_FAILED, r = net_backend_start(cfg, &net);
	vm.net = &net;
	bool built = r == 0 && boot_vm(&vm, cfg) == 0 && io_thread_prepare(&io, vm.mode == VM_RESTORE) == 0;
	devnodes_close(); // what was opened early and not used: the VM has its devices
	if (built && privs_drop(l->inherited, MAX(l->ninherited, 0), vm.mem.size) == 0 &&
	    (!l->built || l->built(l->hooks.ctx) == 0))
		status = vm_run(&vm, &io);
	if (cfg->boot_trace || cfg->stats_json) {
		trace->status = status;
		trace_measure(trace, vm.mem.base, vm.mem.size);
		trace_mark(trace, TRACE_END);
		if (trace_report(trace, cfg->boot_trace, cfg->stats_json) < 0 && status == 0)
			status = EXIT_CLEARVM_FAILED;
	}
	io_thread_destroy(&io);
	vm_destroy(&vm);
	net_backend_stop(&net);
	template_release(&tpl);
	return status;
}
