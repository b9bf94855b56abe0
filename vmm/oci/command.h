// SPDX-License-Identifier: Apache-2.0
// What the OCI commands share (command.c): runc's global flags' result, its exit status for a
// failure, and its way with options.
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "state.h"

#define OCI_FAILED 1 // as runc: any failure of the runtime itself

struct oci_globals {
	const char *root; // --root (NULL: the default)
	char root_dir[PATH_MAX - STATE_ID_MAX - 2];
};

// --name VALUE or --name=VALUE at argv[*i] (also -name, as runc takes it); advances *i past a
// separate value.
bool opt_value(int argc, char **argv, int *i, const char *name, const char **value);
// --name, --name=true or -name.
bool opt_flag(const char *arg, const char *name);
// The one id command cmd takes, after its options: flags (NULL-terminated, or NULL) that are
// set turn on set[i]; an unknown option, a second id or none is logged and gives NULL.
const char *one_id(int argc, char **argv, const char *cmd, const char *const *flags, bool *set);

// pause.c: pause ID (every thread of the VMM stopped: the VM stands still) or, with resume,
// resume ID. 0, or OCI_FAILED with one line logged.
int oci_pause(struct oci_globals *g, int argc, char **argv, bool resume);

// update.c: update [-r FILE|-] [runc's resource flags] ID: what the host grants a running
// VM's VMM (its cgroup's CPU time and CPUs). 0, or OCI_FAILED with one line logged.
int oci_update(struct oci_globals *g, int argc, char **argv);

// exec.c: exec [options] ID [CMD ARGS...]: a process in the running container. Its status, or
// OCI_FAILED with one line logged.
int oci_exec(struct oci_globals *g, int argc, char **argv);
struct bundle;
struct enter_request;
// The enter request for b's process (its PATH set to the default when it has none): in the
// container whose VM it is (app ""), or in the pod's later container named app, with that
// container's capabilities. 0 or -errno (logged).
int oci_enter_request(struct bundle *b, const char *app, struct enter_request *req);
// Connects to the exec socket of the VM whose container's state directory is dir: the socket,
// or -errno (not logged).
int oci_exec_connect(const char *dir);
// The exec socket in a container's state directory, as a path of any length's directory can
// be reached (through dirfd, open on it): into buf.
void oci_exec_socket_path(int dirfd, char *buf, size_t size);
