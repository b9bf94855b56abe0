// SPDX-License-Identifier: Apache-2.0
// Dropping what clearvm no longer needs once its VM is built (privs.c).
#pragma once

#include <stdint.h>

// The fds open now other than 0-2 and `keep` (what clearvm inherited, when called first
// thing): up to max into fds; returns how many, or -errno.
int privs_inherited_fds(int *fds, int max, int keep);
// Closes those fds; drops every capability, also from the bounding set; no_new_privs; caps on
// fds and on the VMM's own memory (1 GiB beside guest_ram bytes of guest RAM); no core dumps.
// Capabilities are per thread: this applies to the calling thread and the threads it starts
// later (vCPUs, I/O), not to the file server threads already running, which drop theirs with
// privs_confine_thread(). 0 or -errno (logged).
int privs_drop(const int *inherited, int ninherited, uint64_t guest_ram);
// The calling file server thread keeps only what serving any owner's files needs (chown,
// DAC override and read-search, fowner, fsetid), and sets no_new_privs. 0 or -errno (logged).
int privs_confine_thread(void);
