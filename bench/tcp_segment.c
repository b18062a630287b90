/*
 * tcp_segment: the cost per segment of an established connection's send and
 * receive paths, payload 64 and 1448 bytes, in steady state.
 *
 * shunt: two stacks on the bench netif (benchnet.h), a virtual clock, one
 * connection with TCP_NODELAY and timestamps.  Each iteration is a batch of
 * BATCH segments:
 *   send   shunt_tcp_write() of each segment (copy into the send buffer,
 *          tcp_output, IPv4, Ethernet, the netif's tx burst), the release of
 *          the sent frames (Tx completion), and the sender's poll that takes
 *          the ACKs (frees the acknowledged send buffer);
 *   recv   the receiver's poll over the batch (Ethernet, IPv4, checksum,
 *          demultiplexing, the state machine, delivery to the raw-API recv
 *          callback, which frees the pbuf and reopens the window) and the
 *          ACKs it sends, with their release;
 *   total  both.
 * The wire's copies between the stacks are timed apart and left out
 * (counter wire_ns).
 *
 * kernel: a TCP pair over loopback in this process, TCP_NODELAY, send() of
 * each segment then recv() of segment-sized pieces.  Over loopback the
 * kernel's send() also runs the receiver's protocol processing (softirq on
 * the same CPU), and both sides are system calls copying to or from user
 * memory; so "send" and "recv" are not split the same way on both sides,
 * and the like-for-like figure is "total".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <shunt/stack.h>
#include <shunt/tcp.h>
#include "bench.h"
#include "benchnet.h"
#include "kernsock.h"

#define BATCH		32		/* segments per iteration */
#define NFIX		8		/* cached fixtures (one per payload size and offload) */
#define STEP_NS		10000		/* virtual time per batch */
#define PORT		5001

enum mode { MODE_SEND, MODE_RECV, MODE_TOTAL };

/* What one registered benchmark measures. */
struct seg_cfg {
	int mode;
	int kernel;
	int csum_offload;		/* shunt-ol: checksums left to the "NIC" */
};

struct seg_times {
	uint64_t tx, rx, wire;		/* ns */
	uint32_t segs;			/* segments the receiver got in this batch */
};

static uint8_t wbuf[1448], rbuf[65536];

/* ---- shunt ---- */

struct sfix {
	struct benchnet bn;
	struct shunt_tcp_pcb *cli, *srv, *lst;
	uint32_t size;
	int csum_offload;
	uint64_t rx_bytes;
	int connected, err;
	int broken;			/* setup failed (-errno): fail fast on later runs */
};

static struct sfix *sfixes[NFIX];

static int
srv_recv(void *arg, struct shunt_tcp_pcb *pcb, struct shunt_pbuf *p, int err)
{
	struct sfix *fx = arg;
	uint32_t n;

	(void)err;
	if (p == NULL)
		return 0;
	/* The raw API hands the payload over without a copy; a socket recv() would copy it out here. */
	n = p->tot_len;
	fx->rx_bytes += n;
	shunt_pbuf_free(p);
	shunt_tcp_recved(pcb, n);
	return 0;
}

static void
on_err(void *arg, int err)
{
	struct sfix *fx = arg;

	fx->err = err;
}

static int
srv_accept(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct sfix *fx = arg;

	(void)err;
	fx->srv = pcb;
	shunt_tcp_arg(pcb, fx);
	shunt_tcp_recv(pcb, srv_recv);
	shunt_tcp_err(pcb, on_err);
	shunt_tcp_setopt(pcb, SHUNT_TCP_OPT_NODELAY, 1);
	return 0;
}

static int
cli_connected(void *arg, struct shunt_tcp_pcb *pcb, int err)
{
	struct sfix *fx = arg;

	(void)pcb;
	fx->connected = err == 0;
	return 0;
}

static void
poll_drain(struct benchnet *bn, int side)
{
	do
		shunt_stack_poll(bn->s[side]);
	while (benchnet_rx_pending(bn, side) > 0);
}

static int
sfix_batch(struct sfix *fx, struct seg_times *t)
{
	struct benchnet *bn = &fx->bn;
	uint64_t t0, t1, t2, t3, t4, t5, t6, t7, before = fx->rx_bytes;
	int i, r, short_write = 0;

	t0 = bench_now_ns();
	for (i = 0; i < BATCH; i++) {
		r = shunt_tcp_write(fx->cli, wbuf, fx->size, 0);
		/* A full send buffer (only while warming up): finish the round so that ACKs drain it. */
		if (r != (int)fx->size) {
			short_write = 1;
			break;
		}
	}
	t1 = bench_now_ns();
	benchnet_copy(bn, 0);
	t2 = bench_now_ns();
	benchnet_release(bn, 0);
	t3 = bench_now_ns();
	poll_drain(bn, 1);
	t4 = bench_now_ns();
	benchnet_copy(bn, 1);
	t5 = bench_now_ns();
	benchnet_release(bn, 1);
	t6 = bench_now_ns();
	poll_drain(bn, 0);
	t7 = bench_now_ns();
	shunt_vclock_advance(&bn->clock, STEP_NS);
	t->tx = (t1 - t0) + (t3 - t2) + (t7 - t6);
	t->rx = (t4 - t3) + (t6 - t5);
	t->wire = (t2 - t1) + (t5 - t4);
	t->segs = (uint32_t)((fx->rx_bytes - before) / fx->size);
	if (fx->err != 0)
		return fx->err;
	return short_write ? -ENOBUFS : 0;
}

static struct sfix *
sfix_broken(struct sfix *fx, int err, int *errp)
{
	fx->broken = err;
	*errp = err;
	return NULL;
}

static struct sfix *
sfix_get(uint32_t size, int csum_offload, int *errp)
{
	struct seg_times t;
	struct sfix *fx;
	int i, ok, err;

	for (i = 0; i < NFIX; i++) {
		if (sfixes[i] != NULL && sfixes[i]->size == size && sfixes[i]->csum_offload == csum_offload) {
			*errp = sfixes[i]->broken;
			return sfixes[i]->broken ? NULL : sfixes[i];
		}
	}
	for (i = 0; i < NFIX && sfixes[i] != NULL; i++)
		;
	if (i == NFIX) {
		*errp = -ENOSPC;
		return NULL;
	}
	fx = calloc(1, sizeof(*fx));
	if (fx == NULL) {
		*errp = -ENOMEM;
		return NULL;
	}
	fx->size = size;
	fx->csum_offload = csum_offload;
	err = benchnet_init(&fx->bn, NULL, csum_offload);
	if (err != 0) {
		free(fx);
		*errp = err;
		return NULL;
	}
	sfixes[i] = fx;
	fx->lst = shunt_tcp_new(fx->bn.s[1]);
	fx->cli = shunt_tcp_new(fx->bn.s[0]);
	if (fx->lst == NULL || fx->cli == NULL)
		return sfix_broken(fx, -ENOMEM, errp);
	shunt_tcp_arg(fx->lst, fx);
	shunt_tcp_accept(fx->lst, srv_accept);
	shunt_tcp_arg(fx->cli, fx);
	shunt_tcp_err(fx->cli, on_err);
	shunt_tcp_setopt(fx->cli, SHUNT_TCP_OPT_NODELAY, 1);
	err = shunt_tcp_bind(fx->lst, 0, htons(PORT));
	if (err == 0)
		err = shunt_tcp_listen(fx->lst, 4);
	if (err == 0)
		err = shunt_tcp_connect(fx->cli, fx->bn.ip[1], htons(PORT), cli_connected);
	if (err != 0)
		return sfix_broken(fx, err, errp);
	benchnet_settle(&fx->bn, 100000, 1000);
	if (!fx->connected || fx->srv == NULL)
		return sfix_broken(fx, -ENOTCONN, errp);
	/* Steady state: past slow start, caches warm, pools at their working size, 64 clean batches in a row. */
	for (i = 0, ok = 0; i < 512 || ok < 64; i++) {
		if (i == 20000)
			return sfix_broken(fx, -EAGAIN, errp);
		ok = sfix_batch(fx, &t) == 0 && t.segs == BATCH ? ok + 1 : 0;
	}
	return fx;
}

static void
sfix_fini_all(void)
{
	struct shunt_stats s0, s1;
	uint32_t left;
	int i;

	for (i = 0; i < NFIX; i++) {
		struct sfix *fx = sfixes[i];

		if (fx == NULL)
			continue;
		shunt_stack_stats(fx->bn.s[0], &s0);
		shunt_stack_stats(fx->bn.s[1], &s1);
		if (s0.tcp_retransmit + s1.tcp_retransmit + benchnet_drops(&fx->bn) != 0)
			bench_fail("tcp_segment/%u: %llu retransmissions, %llu wire drops on a lossless wire",
			    fx->size, (unsigned long long)(s0.tcp_retransmit + s1.tcp_retransmit),
			    (unsigned long long)benchnet_drops(&fx->bn));
		/* A graceful close both ways: the stacks free what is left in TIME_WAIT when destroyed. */
		if (fx->cli != NULL)
			shunt_tcp_close(fx->cli);
		if (fx->srv != NULL)
			shunt_tcp_close(fx->srv);
		benchnet_settle(&fx->bn, 100000, 1000);
		if (fx->lst != NULL)
			shunt_tcp_close(fx->lst);
		left = benchnet_fini(&fx->bn);
		if (left != 0)
			bench_fail("tcp_segment/%u: %u pool objects leaked", fx->size, left);
		free(fx);
		sfixes[i] = NULL;
	}
}

/* ---- kernel ---- */

struct kfix {
	int cli, srv;
	uint32_t size;
};

static struct kfix kfixes[NFIX];
static int nkfix;

static int
kfix_batch(struct kfix *fx, struct seg_times *t)
{
	uint64_t t0, t1, t2, want = (uint64_t)BATCH * fx->size, got = 0;
	ssize_t r;
	int i;

	t0 = bench_now_ns();
	for (i = 0; i < BATCH; i++) {
		r = send(fx->cli, wbuf, fx->size, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r != (ssize_t)fx->size)
			return r < 0 ? -errno : -EAGAIN;
	}
	t1 = bench_now_ns();
	while (got < want) {
		r = recv(fx->srv, rbuf, fx->size, MSG_DONTWAIT);
		if (r > 0) {
			got += (uint64_t)r;
		} else if (r < 0 && errno == EAGAIN) {
			/* Data not there yet (softirq deferred to ksoftirqd): wait, and pay for it. */
			if (kern_wait_readable(fx->srv, 1000) <= 0)
				return -ETIMEDOUT;
		} else {
			return r == 0 ? -ECONNRESET : -errno;
		}
	}
	t2 = bench_now_ns();
	t->tx = t1 - t0;
	t->rx = t2 - t1;
	t->wire = 0;
	t->segs = BATCH;
	return 0;
}

static struct kfix *
kfix_get(uint32_t size, int *errp)
{
	struct seg_times t;
	struct kfix *fx;
	int i, err;

	for (i = 0; i < nkfix; i++)
		if (kfixes[i].size == size)
			return &kfixes[i];
	if (nkfix == NFIX) {
		*errp = -ENOSPC;
		return NULL;
	}
	fx = &kfixes[nkfix];
	err = kern_tcp_pair(&fx->cli, &fx->srv);
	if (err != 0) {
		*errp = err;
		return NULL;
	}
	fx->size = size;
	nkfix++;
	for (i = 0; i < 256; i++) {
		err = kfix_batch(fx, &t);
		if (err != 0) {
			*errp = err;
			return NULL;
		}
	}
	return fx;
}

static void
kfix_fini_all(void)
{
	int i;

	for (i = 0; i < nkfix; i++) {
		close(kfixes[i].cli);
		close(kfixes[i].srv);
	}
	nkfix = 0;
}

static void
fini_all(void)
{
	sfix_fini_all();
	kfix_fini_all();
}

/* ---- the benchmark ---- */

static void
bm_tcp_segment(struct bench_state *st)
{
	const struct seg_cfg *cfg = bench_udata(st);
	int mode = cfg->mode;
	uint32_t size = (uint32_t)bench_arg(st, 0);
	struct shunt_tcp_info c0, c1, s0, s1;
	struct seg_times sum = { 0, 0, 0 }, t;
	struct sfix *sf = NULL;
	struct kfix *kf = NULL;
	struct bench_lat lat;
	uint32_t k0 = 0, k1;
	uint64_t segs, short_batches = 0;
	int err = 0;

	if (cfg->kernel)
		kf = kfix_get(size, &err);
	else
		sf = sfix_get(size, cfg->csum_offload, &err);
	if (sf == NULL && kf == NULL) {
		bench_error(st, "fixture: %s", strerror(-err));
		return;
	}
	if (bench_lat_init(&lat, 1u << 16) != 0) {
		bench_error(st, "no memory");
		return;
	}
	if (sf != NULL) {
		shunt_tcp_get_info(sf->cli, &c0);
		shunt_tcp_get_info(sf->srv, &s0);
	} else {
		k0 = kern_tcp_data_segs_out(kf->cli);
	}
	while (bench_keep_running(st)) {
		uint64_t ns;

		err = sf != NULL ? sfix_batch(sf, &t) : kfix_batch(kf, &t);
		if (err != 0) {
			bench_error(st, "batch: %s", strerror(-err));
			break;
		}
		ns = mode == MODE_SEND ? t.tx : mode == MODE_RECV ? t.rx : t.tx + t.rx;
		bench_set_iteration_time(st, (double)ns * 1e-9);
		bench_lat_add(&lat, ns / BATCH);
		sum.tx += t.tx;
		sum.rx += t.rx;
		sum.wire += t.wire;
		/*
		 * A batch the receiver did not get whole: the sender's window held
		 * segments back, and a later batch carries them (and their cost).
		 */
		if (t.segs != BATCH)
			short_batches++;
	}
	if (err == 0) {
		segs = bench_iterations(st) * BATCH;
		bench_set_items(st, segs);
		bench_set_bytes(st, segs * size);
		bench_counter(st, "tx_ns", (double)sum.tx / (double)segs, BENCH_C_PLAIN);
		bench_counter(st, "rx_ns", (double)sum.rx / (double)segs, BENCH_C_PLAIN);
		if (sf != NULL) {
			bench_counter(st, "wire_ns", (double)sum.wire / (double)segs, BENCH_C_PLAIN);
			shunt_tcp_get_info(sf->cli, &c1);
			shunt_tcp_get_info(sf->srv, &s1);
			bench_counter(st, "segs_per_write", (double)(c1.data_segs_out - c0.data_segs_out) / (double)segs,
			    BENCH_C_PLAIN);
			bench_counter(st, "acks_per_seg", (double)(s1.segs_out - s0.segs_out) / (double)segs,
			    BENCH_C_PLAIN);
		} else {
			k1 = kern_tcp_data_segs_out(kf->cli);
			if (k1 != 0)
				bench_counter(st, "segs_per_write", (double)(k1 - k0) / (double)segs, BENCH_C_PLAIN);
		}
		bench_counter(st, "short_batches", (double)short_batches, BENCH_C_PLAIN);
		bench_lat_report(st, &lat, "seg_");
	}
	bench_lat_fini(&lat);
}

#define SIZES .nargs = 1, .nargsets = 2, .args = { { 64 }, { 1448 } }
#define KERNEL_SPLIT "tcp_segment send/recv: the kernel's send() over loopback includes the receiver's " \
	"protocol processing, so only tcp_segment/total compares like with like"
#define OFFLOAD "tcp_segment shunt-ol: checksums offloaded both ways, as on a DPDK NIC that has the offload " \
	"(Linux's loopback computes no checksums either)"
#define TOTAL "tcp_segment/total: kernel = send() + recv() syscalls over loopback; shunt = both stacks' " \
	"work for one segment and its share of ACKs, without the in-memory wire's copies"

static const struct seg_cfg
    send_k = { MODE_SEND, 1, 0 }, send_s = { MODE_SEND, 0, 0 }, send_o = { MODE_SEND, 0, 1 },
    recv_k = { MODE_RECV, 1, 0 }, recv_s = { MODE_RECV, 0, 0 }, recv_o = { MODE_RECV, 0, 1 },
    total_k = { MODE_TOTAL, 1, 0 }, total_s = { MODE_TOTAL, 0, 0 }, total_o = { MODE_TOTAL, 0, 1 };

#define SEG(fam, var, cfg, ...) { .family = fam, .variant = var, .fn = bm_tcp_segment, .udata = &cfg, \
	.flags = BENCH_F_MANUAL_TIME, SIZES, .fini = fini_all, __VA_ARGS__ }

static const struct bench_def defs[] = {
	SEG("tcp_segment/send", "kernel", send_k, .note = KERNEL_SPLIT),
	SEG("tcp_segment/send", "shunt", send_s),
	SEG("tcp_segment/send", "shunt-ol", send_o, .note = OFFLOAD),
	SEG("tcp_segment/recv", "kernel", recv_k, .note = KERNEL_SPLIT),
	SEG("tcp_segment/recv", "shunt", recv_s),
	SEG("tcp_segment/recv", "shunt-ol", recv_o, .note = OFFLOAD),
	SEG("tcp_segment/total", "kernel", total_k, .note = TOTAL),
	SEG("tcp_segment/total", "shunt", total_s),
	SEG("tcp_segment/total", "shunt-ol", total_o, .note = OFFLOAD),
};

static void __attribute__((constructor))
tcp_segment_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
