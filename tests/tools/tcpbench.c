// SPDX-License-Identifier: Apache-2.0
// The guest's end of bench/net-bench.sh (static, for the busybox rootfs, whose nc moves 1 KiB
// per write): connects to ADDR:PORT and
//   tcpbench ADDR PORT send BYTES   writes BYTES (64 KiB writes), ends its side, reads what the
//                                   peer sends until it closes; prints the bytes written
//   tcpbench ADDR PORT recv         reads until the peer closes; prints the bytes read
//   tcpbench ADDR PORT rr COUNT     COUNT times: writes one byte, reads one back; prints COUNT
// Exits 0 when all of it was done, 1 when the connection failed or ended early.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

static int drain(int s, unsigned long long *got)
{
	ssize_t n;
	while ((n = read(s, buf, sizeof(buf))) > 0)
		*got += (unsigned long long)n;
	return n == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: tcpbench ADDR PORT send BYTES|recv|rr COUNT\n");
		return 2;
	}
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
	    connect(s, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("tcpbench: connect");
		return 1;
	}
	unsigned long long n = argc > 4 ? strtoull(argv[4], NULL, 10) : 0, done = 0, got = 0;
	if (!strcmp(argv[3], "send") && argc == 5) {
		while (done < n) {
			size_t k = n - done < sizeof(buf) ? (size_t)(n - done) : sizeof(buf);
			ssize_t w = write(s, buf, k);
			if (w <= 0)
				break;
			done += (unsigned long long)w;
		}
		shutdown(s, SHUT_WR);
		if (drain(s, &got) || done != n)
			return 1;
		printf("%llu\n", done);
	} else if (!strcmp(argv[3], "recv") && argc == 4) {
		if (drain(s, &got))
			return 1;
		printf("%llu\n", got);
	} else if (!strcmp(argv[3], "rr") && argc == 5) {
		int one = 1;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (; done < n; done++)
			if (write(s, "x", 1) != 1 || read(s, buf, 1) != 1)
				return 1;
		printf("%llu\n", done);
	} else {
		fprintf(stderr, "tcpbench: %s: expected send BYTES, recv or rr COUNT\n", argv[3]);
		return 2;
	}
	return 0;
}
