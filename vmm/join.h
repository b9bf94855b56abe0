// SPDX-License-Identifier: Apache-2.0
// Stopping a thread that may be blocked (join.c).
#pragma once

#include <pthread.h>

// Joins thread t, calling kick(arg) (a signal, an eventfd write) first and again every 20 ms
// until t has ended: a kick that lands just before t blocks would otherwise be lost.
void join_kicking(pthread_t t, void (*kick)(void *), void *arg);
