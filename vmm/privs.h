// SPDX-License-Identifier: Apache-2.0
// Dropping what clearvm no longer needs once its VM is built (privs.c).
#pragma once

// The fds open now other than 0-2 and `keep` (what clearvm inherited, when called first
// thing): up to max into fds; returns how many, or -errno.
int privs_inherited_fds(int *fds, int max, int keep);
// Closes those fds; keeps only the file server's capabilities (root) and drops the rest from
// the bounding set; no ambient or inheritable ones; no_new_privs; caps on fds and on the
// VMM's own memory; no core dumps. Applies to the calling thread and the threads it starts
// later: call it before starting any. 0 or -errno (logged).
int privs_drop(const int *inherited, int ninherited);
