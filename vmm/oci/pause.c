// SPDX-License-Identifier: Apache-2.0
// pause and resume: the VM stands still while every thread of its VMM is stopped (SIGSTOP;
// the vCPUs leave KVM_RUN for it), and goes on at SIGCONT, its clock catching up as after a
// host suspend. The status is read off the VMM's threads (state.c), so a pause survives
// nothing but the VMM itself. passt, a process of its own, keeps its connections meanwhile.
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "../util.h"
#include "command.h"
#include "state.h"

#define PAUSE_WAIT_MS 10000 // how long the threads get to stop (or go on): they take microseconds

int oci_pause(struct oci_globals *g, int argc, char **argv, bool resume)
{
	const char *cmd = resume ? "resume" : "pause";
	const char *id = one_id(argc, argv, cmd, NULL, NULL);
	struct oci_state s;
	if (!id || state_read(g->root_dir, id, &s) < 0)
		return OCI_FAILED;
	state_free(&s);
	if (s.pod[0]) // its host process is no VMM: stopping it would not stop the container
		return log_err(0, "%s: container %s runs in the VM of the pod's container %s: %s that "
				  "one (the whole VM)", cmd, id, s.pod, cmd),
		       OCI_FAILED;
	enum oci_status st = state_status(&s), want = resume ? OCI_PAUSED : OCI_RUNNING;
	if (st != want)
		return log_err(0, "%s: container %s is %s, not %s", cmd, id, state_status_name(st),
			       state_status_name(want)),
		       OCI_FAILED;
	if (kill(s.pid, resume ? SIGCONT : SIGSTOP) < 0)
		return log_err(errno, "%s: container %s", cmd, id), OCI_FAILED;
	// Back once every thread has stopped (or gone on): a `state` after us tells the truth.
	for (int ms = 0; !state_threads_are(s.pid, !resume); ms++) {
		if (state_status(&s) == OCI_STOPPED)
			return log_err(0, "%s: container %s has stopped", cmd, id), OCI_FAILED;
		if (ms == PAUSE_WAIT_MS)
			return log_err(0, "%s: container %s: its threads did not %s", cmd, id,
				       resume ? "go on" : "stop"),
			       OCI_FAILED;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return 0;
}
