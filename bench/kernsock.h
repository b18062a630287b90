/*
 * The kernel side of paired benchmarks: sockets over loopback (127.0.0.1
 * only), in the benchmark's own process and on its own core.  What a kernel
 * figure includes is stated where it is used: over loopback a send() runs the
 * receiver's protocol processing too (softirq on the same CPU), and every
 * call is a system call.
 */
#ifndef SHUNT_BENCH_KERNSOCK_H
#define SHUNT_BENCH_KERNSOCK_H

#include <stdint.h>

/* A connected TCP pair, TCP_NODELAY on both, non-blocking.  0 or -errno. */
int kern_tcp_pair(int *cli, int *srv);
/* A UDP socket bound to 127.0.0.1 and another connected to it.  0 or -errno. */
int kern_udp_pair(int *tx, int *rx);
/* Data segments the socket has sent (tcp_info.tcpi_data_segs_out); 0 if unknown. */
uint32_t kern_tcp_data_segs_out(int fd);
/* Waits up to ms for fd to become readable; 1 readable, 0 timeout, -errno. */
int kern_wait_readable(int fd, int ms);

#endif
