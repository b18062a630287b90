/*
 * Minimal unit-test harness.  TEST(name) defines and registers a test; CHECK*
 * fail it with file:line and a message.  Each test runs in a forked child, so
 * a crash fails one test, not the run.  The runner prints one line per test
 * and ends with "N passed, N failed, N skipped".
 */
#ifndef SHUNT_TEST_H
#define SHUNT_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
void test_skip(const char *why) __attribute__((noreturn));

#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void reg_##name(void) { test_register(#name, name, __FILE__); } \
	static void name(void)

#define CHECK(c) do { if (!(c)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #c); } while (0)
#define CHECKF(c, ...) do { if (!(c)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); \
} while (0)
#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) != 0) test_fail(__FILE__, __LINE__, "memory %s != %s (%zu bytes)", #a, #b, (size_t)(n)); \
} while (0)

#endif
