// SPDX-License-Identifier: Apache-2.0
// A UDP peer for the network tests (static, for the busybox rootfs, which has no UDP server):
//   udpecho serve PORT          answers one datagram with "echo:" and its bytes, then exits
//   udpecho send ADDR PORT MSG  sends MSG and prints the answer (2 s at most; exit 1 without)
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[1500];
	struct sockaddr_in peer = {.sin_family = AF_INET};
	socklen_t plen = sizeof(peer);
	if (s < 0)
		return 2;
	if (argc == 3 && !strcmp(argv[1], "serve")) {
		struct sockaddr_in me = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)atoi(argv[2]))};
		if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
			return 2;
		ssize_t n =
		    recvfrom(s, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return 1;
		memcpy(buf, "echo:", 5);
		return sendto(s, buf, (size_t)n + 5, 0, (struct sockaddr *)&peer, plen) == n + 5
			   ? 0
			   : 1;
	}
	if (argc == 5 && !strcmp(argv[1], "send")) {
		peer.sin_port = htons((uint16_t)atoi(argv[3]));
		struct timeval tv = {.tv_sec = 2};
		if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1 ||
		    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    sendto(s, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&peer, sizeof(peer)) <
			0)
			return 2;
		ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return 1;
		buf[n] = '\0';
		puts(buf);
		return 0;
	}
	fputs("usage: udpecho serve PORT | udpecho send ADDR PORT MSG\n", stderr);
	return 2;
}
