/*
 * checksum: the Internet checksum (RFC 1071) over 64, 1448 and 9000 bytes.
 * shunt is csum_add() of stack/wire/csum.c (64-bit loads, one swap at the
 * end), the sum every received and sent segment pays for when the NIC does
 * not offload it.  The baseline is "ref", the plain loop of RFC 1071 §4.1
 * (16-bit words into a 32-bit sum): the kernel's csum_partial cannot be
 * called from user space, so there is no kernel side.
 */
#include <stdint.h>
#include <string.h>
#include "wire/csum.h"
#include "bench.h"

#define MAX_LEN 9000

static uint8_t buf[MAX_LEN] __attribute__((aligned(64)));

static void
fill(void)
{
	uint32_t x = 0x12345678;
	size_t i;

	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
}

static uint16_t
ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len > 0)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t
shunt_csum(const uint8_t *p, size_t len)
{
	return csum_fold(csum_add(0, p, len));
}

static void
run(struct bench_state *st, uint16_t (*fn)(const uint8_t *, size_t))
{
	size_t len = (size_t)bench_arg(st, 0);
	uint16_t acc = 0;

	if (buf[0] == 0 && buf[1] == 0)
		fill();
	/* Both must agree before either is timed, at an odd length too. */
	if (shunt_csum(buf, len) != ref_csum(buf, len) || shunt_csum(buf + 1, len - 1) != ref_csum(buf + 1, len - 1)) {
		bench_error(st, "shunt and reference checksums differ at %zu bytes", len);
		return;
	}
	while (bench_keep_running(st)) {
		bench_keep(buf);
		acc ^= fn(buf, len);
	}
	bench_keep(&acc);
	bench_set_items(st, bench_iterations(st));
	bench_set_bytes(st, bench_iterations(st) * len);
}

static void
bm_shunt(struct bench_state *st)
{
	run(st, shunt_csum);
}

static void
bm_ref(struct bench_state *st)
{
	run(st, ref_csum);
}

#define SIZES .nargs = 1, .nargsets = 3, .args = { { 64 }, { 1448 }, { 9000 } }

static const struct bench_def defs[] = {
	{ .family = "checksum", .variant = "ref", .fn = bm_ref, SIZES,
	  .note = "checksum: ref is the RFC 1071 §4.1 loop at -O2 (no kernel csum_partial in user space); item = one buffer" },
	{ .family = "checksum", .variant = "shunt", .fn = bm_shunt, SIZES },
};

static void __attribute__((constructor))
checksum_register(void)
{
	bench_register(defs, sizeof(defs) / sizeof(defs[0]));
}
