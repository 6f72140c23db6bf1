/*
 * Raw baseline for the batch-read benchmark: the cost of the syscalls alone.
 * Opens N established loopback connections itself, then times a plain loop of
 * getsockopt(TCP_INFO, 280-byte buffer) + ioctl(SIOCOUTQ) over the N client
 * sockets, optionally preceded by getsockopt(SO_COOKIE) (what readBatch does
 * when given cookies). Compiled by bench/run.js into a temp dir at bench time.
 *
 * usage: raw-baseline N REPS                 -> tight-loop ns/socket (JSON line)
 *        raw-baseline N paced SECONDS HZ [cookie]
 *           -> CPU (getrusage) of reading all N sockets HZ times a second for
 *              SECONDS, sleeping in between: the reads alone at the watch rate,
 *              with the cold caches a real 4 Hz poller sees (JSON line)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#define INFO_CAP 280 /* what the addon's batch records hold on a 6.18 kernel */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void die(const char* what) { perror(what); exit(1); }

static volatile uint64_t sink;

/* One pass over all sockets; returns ns per socket. */
static double pass(const int* fds, int n, int with_cookie) {
  static unsigned char info[INFO_CAP];
  double t0 = now_ns();
  for (int i = 0; i < n; i++) {
    if (with_cookie) {
      uint64_t cookie = 0;
      socklen_t cl = sizeof cookie;
      if (getsockopt(fds[i], SOL_SOCKET, SO_COOKIE, &cookie, &cl) != 0) die("SO_COOKIE");
      sink += cookie;
    }
    socklen_t len = INFO_CAP;
    if (getsockopt(fds[i], IPPROTO_TCP, TCP_INFO, info, &len) != 0) die("TCP_INFO");
    int outq = 0;
    if (ioctl(fds[i], SIOCOUTQ, &outq) != 0) die("SIOCOUTQ");
    sink += len + outq + info[0];
  }
  return (now_ns() - t0) / n;
}

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static int paced(const int* fds, int n, double seconds, double hz, int with_cookie) {
  const double period = 1e9 / hz;
  for (int w = 0; w < 3; w++) pass(fds, n, with_cookie);
  double c0 = cpu_us(), t0 = now_ns(), next = t0;
  long ticks = 0;
  while (now_ns() - t0 < seconds * 1e9) {
    pass(fds, n, with_cookie);
    ticks++;
    next += period;
    double wait = next - now_ns();
    if (wait > 0) {
      struct timespec ts = { (time_t)(wait / 1e9), (long)((long long)wait % 1000000000LL) };
      nanosleep(&ts, NULL);
    }
  }
  double cpu = cpu_us() - c0, wall = (now_ns() - t0) / 1e6;
  printf("{\"n\":%d,\"hz\":%.2f,\"cookie\":%s,\"wallMs\":%.1f,\"ticks\":%ld,\"reads\":%ld,"
         "\"cpuUs\":%.0f,\"cpuNsPerRead\":%.1f}\n",
         n, hz, with_cookie ? "true" : "false", wall, ticks, ticks * n, cpu, cpu * 1e3 / (ticks * (double)n));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s N REPS | N paced SECONDS HZ [cookie]\n", argv[0]); return 2; }
  int n = atoi(argv[1]);
  int is_paced = strcmp(argv[2], "paced") == 0;
  int reps = is_paced ? 1 : atoi(argv[2]);
  if (n <= 0 || reps <= 0 || (is_paced && argc < 5)) return 2;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) != 0) die("bind");
  if (listen(lfd, 4096) != 0) die("listen");
  socklen_t al = sizeof addr;
  getsockname(lfd, (struct sockaddr*)&addr, &al);
  int* clients = calloc(n, sizeof(int));
  int* accepted = calloc(n, sizeof(int));
  for (int i = 0; i < n; i++) {
    clients[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (clients[i] < 0) die("socket");
    if (connect(clients[i], (struct sockaddr*)&addr, sizeof addr) != 0) die("connect");
    accepted[i] = accept(lfd, NULL, NULL);
    if (accepted[i] < 0) die("accept");
  }
  if (is_paced) return paced(clients, n, atof(argv[3]), atof(argv[4]), argc > 5 && strcmp(argv[5], "cookie") == 0);
  for (int w = 0; w < 3; w++) { pass(clients, n, 0); pass(clients, n, 1); }
  double* plain = calloc(reps, sizeof(double));
  double* cookie = calloc(reps, sizeof(double));
  for (int r = 0; r < reps; r++) { /* interleaved so drift hits both alike */
    plain[r] = pass(clients, n, 0);
    cookie[r] = pass(clients, n, 1);
  }
  qsort(plain, reps, sizeof(double), cmp);
  qsort(cookie, reps, sizeof(double), cmp);
  printf("{\"n\":%d,\"reps\":%d,\"plainMedianNs\":%.1f,\"plainMinNs\":%.1f,"
         "\"cookieMedianNs\":%.1f,\"cookieMinNs\":%.1f}\n",
         n, reps, plain[reps / 2], plain[0], cookie[reps / 2], cookie[0]);
  for (int i = 0; i < n; i++) { close(clients[i]); close(accepted[i]); }
  close(lfd);
  return 0;
}
