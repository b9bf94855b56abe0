// SPDX-License-Identifier: Apache-2.0
// clearvm: argv -> struct vm_config -> vmm_main() -> the workload's exit status (or, under the
// name of an rkt stage1 entrypoint, that entrypoint; with an OCI runtime command, that command).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "oci/oci.h"
#include "rkt/stage1.h"
#include "sandbox/privs.h"
#include "vmm.h"

int main(int argc, char **argv)
{
	if (argc > 0 && stage1_invoked(argv[0]))
		return stage1_main(argc, argv);
	if (oci_invoked(argc, argv))
		return oci_main(argc, argv);
	static struct vmm_launch l;
	trace_start(&l.trace);
	static int inherited[1024];
	l.inherited = inherited;
	l.ninherited = privs_inherited_fds(inherited, 1024, -1);
	signal(SIGPIPE, SIG_IGN); // a closed stdout must not kill the VMM mid-run

	struct vm_config cfg;
	int r = cli_parse(argc, argv, &cfg);
	if (r != 0) {
		config_free(&cfg);
		return r > 0 ? 0 : EXIT_CLEARVM_FAILED;
	}
	log_verbose = cfg.verbose;
	trace_mark(&l.trace, TRACE_PARSED);
	l.cfg = &cfg;
	int status = vmm_main(&l);
	config_free(&cfg);
	fflush(stdout);
	return status;
}
