// SPDX-License-Identifier: Apache-2.0
// clearvm: argv -> struct vm_config -> vm_build() -> vm_run() -> the workload's exit status.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "privs.h"
#include "rkt/stage1.h"
#include "template.h"
#include "vm.h"

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
	struct trace trace = vm->trace;
	vm_destroy(vm);
	memset(vm, 0, sizeof(*vm));
	vm->trace = trace;
	vm->trace.path = "cold";
	vm->trace.template_build_ms = 0;
	vm->mode = VM_COLD;
	return vm_build(vm, cfg);
}

int main(int argc, char **argv)
{
	if (argc > 0 && stage1_invoked(argv[0]))
		return stage1_main(argc, argv);
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	trace_start(&vm.trace);
	static int inherited[1024];
	int ninherited = privs_inherited_fds(inherited, 1024, -1);
	signal(SIGPIPE, SIG_IGN); // a closed stdout must not kill the VMM mid-run

	struct vm_config cfg;
	int r = cli_parse(argc, argv, &cfg);
	if (r != 0) {
		config_free(&cfg);
		return r > 0 ? 0 : EXIT_CLEARVM_FAILED;
	}
	log_verbose = cfg.verbose;
	trace_mark(&vm.trace, TRACE_PARSED);
	int status = EXIT_CLEARVM_FAILED;
	struct template tpl = {.mem_fd = -1};
	vm.trace.path = "cold";
	if (template_wanted(&cfg) && template_get(&cfg, &tpl) == 0) {
		vm.mode = VM_RESTORE;
		vm.tpl = &tpl;
		vm.trace.path = tpl.built ? "template-built" : "template";
		vm.trace.template_build_ms = tpl.build_ms;
	}
	r = boot_vm(&vm, &cfg);
	if (r == 0 && privs_drop(inherited, MAX(ninherited, 0), vm.mem.size) == 0)
		status = vm_run(&vm);
	if (cfg.boot_trace || cfg.stats_json) {
		vm.trace.status = status;
		trace_measure(&vm.trace, vm.mem.base, vm.mem.size);
		trace_mark(&vm.trace, TRACE_END);
		if (trace_report(&vm.trace, cfg.boot_trace, cfg.stats_json) < 0 && status == 0)
			status = EXIT_CLEARVM_FAILED;
	}
	vm_destroy(&vm);
	template_release(&tpl);
	config_free(&cfg);
	fflush(stdout);
	return status;
}
