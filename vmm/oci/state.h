// SPDX-License-Identifier: Apache-2.0
// An OCI container's state on the host: the directory ROOT/ID with state.json (written once
// at create) and exec.fifo (there until start), and its status read off the VMM's process.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_ID_MAX 128

struct oci_state {
	char dir[4096]; // ROOT/ID
	char id[STATE_ID_MAX + 1];
	pid_t pid; // the VMM
	// The VMM's start time (/proc/PID/stat field 22): a reused pid is not it.
	uint64_t starttime;
	char bundle[4096];
	char created[32];  // RFC 3339, UTC
	char *annotations; // JSON object text (owned)
	char cgroup[4096]; // the cgroup directory clearvm made for the VMM ("" none)
	uint64_t ram_mib; // the VM's RAM, fixed at create (0: none, a pod's sandbox)
	// A pod's VM (pod.c): its network namespace, whose later containers join it ("" none).
	char netns[4096];
	// A pod's later container: the container whose VM it runs in ("" none), and how many
	// volumes it has bound in that VM's pod share.
	char pod[STATE_ID_MAX + 1];
	unsigned pod_volumes;
};

enum oci_status { OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

// The state root: root if given, else /run/clearvm (uid 0) or $XDG_RUNTIME_DIR/clearvm. 0 or
// -errno (logged).
int state_root(const char *root, char *out, size_t size);
// A container id engines may use: letters, digits, '_', '-', '.', not starting with '.'.
bool state_id_valid(const char *id);
// The process's start time in clock ticks since boot; 0 when it is gone.
uint64_t state_proc_starttime(pid_t pid);
// Writes ROOT/ID/state.json. 0 or -errno (logged).
int state_write(const struct oci_state *s);
// Reads ROOT/ID/state.json. 0, -ENOENT when there is no such container (logged), or -errno.
int state_read(const char *root, const char *id, struct oci_state *s);
void state_free(struct oci_state *s);
// created (the VMM is alive and exec.fifo still there), running, paused (started, and the
// VMM stopped by SIGSTOP: `clearvm pause`), or stopped (the VMM has ended, is a zombie, or its
// pid now names another process).
enum oci_status state_status(const struct oci_state *s);
const char *state_status_name(enum oci_status st);
// Every thread of the live process pid in the state stopped (true) or not stopped (false).
bool state_threads_are(pid_t pid, bool stopped);
// state.json as `clearvm state` prints it (runtime-spec's state), into buf.
void state_format(const struct oci_state *s, char *buf, size_t size);
// Removes ROOT/ID and what it holds, and the cgroup clearvm made (once its VMM is gone). 0 or
// -errno (logged).
int state_remove(const struct oci_state *s);
