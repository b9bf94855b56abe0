// SPDX-License-Identifier: Apache-2.0
// Per-thread-role seccomp allowlists (seccomp.c).
#pragma once

enum seccomp_role { SECCOMP_VCPU, SECCOMP_IO, SECCOMP_MAIN, SECCOMP_P9 };
enum seccomp_mode { SECCOMP_KILL, SECCOMP_LOG, SECCOMP_OFF };

// Loads the calling thread's filter for its role (threads it creates later inherit it).
// 0 or -errno (logged).
int seccomp_enter(enum seccomp_role role, enum seccomp_mode mode);
